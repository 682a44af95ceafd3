// Finite checks of the forward pass. The pass checks its final hidden state (one dispatch and an
// 8-byte readback) and its logits (on the host, which holds them anyway); only when one of them is
// NaN or infinite does locateNonFinite re-run the pass with a probe after every block (embedding,
// each layer's attention and MLP) to find where the first non-finite value appears, and name it.
import type { GpuContext } from '../device';
import { ceilDiv, grid2d, u32, encodeDispatch, type Dispatch } from '../kernel';
import { Usage } from '../flags';
import { numel, readBuffer, type Tensor } from '../tensor';
import { NonFiniteActivationError } from '../errors';
import finiteWgsl from './finite.wgsl';

const NONE = 0xffffffff;

/** A 2-u32 counter (count, first index) set to (0, none), for nonFiniteDispatch. */
export function createFiniteCounter(ctx: GpuContext): GPUBuffer {
  const b = ctx.device.createBuffer({ label: 'non-finite counter', size: 8, usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST });
  ctx.device.queue.writeBuffer(b, 0, Uint32Array.of(0, NONE));
  return b;
}

/** Adds the number of NaN/inf values of `t` to counter[0] and lowers counter[1] to the first one's index. */
export function nonFiniteDispatch(ctx: GpuContext, t: Tensor, counter: GPUBuffer): Dispatch {
  const n = numel(t.shape);
  return {
    kernel: { label: 'non-finite count', code: finiteWgsl },
    buffers: [t.buffer, counter],
    params: [u32(n), u32(0), u32(0), u32(0)],
    workgroups: grid2d(ctx, Math.max(1, ceilDiv(n, 256))),
  };
}

export interface FiniteCount {
  count: number;
  /** Flat index of the first non-finite value, -1 when there is none. */
  first: number;
}

/** count and first index of the non-finite values of a host array. */
export function hostNonFinite(xs: ArrayLike<number>): FiniteCount {
  let count = 0, first = -1;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] - xs[i] !== 0) { // NaN for NaN and +-inf, 0 otherwise
      if (first < 0) first = i;
      count++;
    }
  }
  return { count, first };
}

export async function readFiniteCounter(ctx: GpuContext, counter: GPUBuffer): Promise<FiniteCount> {
  const [count, first] = new Uint32Array(await readBuffer(ctx, counter, 8));
  return { count, first: first === NONE ? -1 : first };
}

/** Counts the non-finite values of `t` on the GPU (after the work already submitted). */
export async function countNonFinite(ctx: GpuContext, t: Tensor): Promise<FiniteCount> {
  const counter = createFiniteCounter(ctx);
  try {
    const enc = ctx.device.createCommandEncoder({ label: 'non-finite count' });
    encodeDispatch(ctx, enc, nonFiniteDispatch(ctx, t, counter));
    ctx.device.queue.submit([enc.finish()]);
    return await readFiniteCounter(ctx, counter);
  } finally {
    counter.destroy();
  }
}

/** Where a probe may look: the residual (S, hidden) after the embedding (layer -1) or after a
 * layer's attention or MLP block. */
export type ResidualPass = 'embedding' | 'attention' | 'mlp';
export type ResidualProbe = (layer: number, pass: ResidualPass, residual: Tensor) => Promise<void>;

/** What the finite check of a forward pass found: the final hidden state or the logits. */
export interface NonFiniteResult {
  where: 'final norm' | 'lm head';
  count: number;
  first: number;
  /** Columns of the tensor where it was found (hidden size or vocabulary). */
  width: number;
  /** Token of the tensor's row 0 (S - 1 for the last-row logits). */
  row0?: number;
}

/** Thrown inside the forward pass; forward() turns it into a NonFiniteActivationError. */
export class NonFiniteResultSignal extends Error {
  override name = 'NonFiniteResultSignal';
  constructor(readonly result: NonFiniteResult) {
    super(`the forward pass produced ${result.count} non-finite values in its ${result.where}`);
  }
}

class Found extends Error {
  constructor(readonly layer: number, readonly pass: ResidualPass, readonly count: number, readonly first: number) {
    super('found');
  }
}

/**
 * Re-runs the pass (`rerun` with a probe) and stops at the first block whose residual holds a NaN
 * or infinity; returns the error naming that layer and pass (or the final norm / LM head when every
 * residual is finite). `numLayers` and `hidden` describe the model.
 */
export async function locateNonFinite(ctx: GpuContext, rerun: (probe: ResidualProbe) => Promise<unknown>, found: NonFiniteResult, numLayers: number, hidden: number): Promise<NonFiniteActivationError> {
  const probe: ResidualProbe = async (layer, pass, x) => {
    const c = await countNonFinite(ctx, x);
    if (c.count > 0) throw new Found(layer, pass, c.count, c.first);
  };
  const hint = 'The model overflows or its weights are broken: check the checkpoint (its weights are finite, or loading would have said so) and its dtype, or try a shorter text.';
  const at = (first: number, width: number, row0 = 0) => `first at token ${row0 + Math.floor(first / width)}, column ${first % width}`;
  try {
    await rerun(probe);
  } catch (e) {
    if (e instanceof Found) {
      const where = e.layer < 0 ? 'the embedding' : `layer ${e.layer} (of ${numLayers}), ${e.pass} block`;
      return new NonFiniteActivationError(
        `The forward pass produced NaN or infinite values: they first appear in the residual after ${where} (${e.count} values, ${at(e.first, hidden)}); every earlier pass is finite. ${hint}`,
        e.layer, e.layer < 0 ? 'embedding' : e.pass,
      );
    }
    if (!(e instanceof NonFiniteResultSignal)) throw e;
  }
  const layer = numLayers;
  return new NonFiniteActivationError(
    `The forward pass produced NaN or infinite values in its ${found.where} (${found.count} values, ${at(found.first, found.width, found.row0)}); the residual after every layer is finite. ${hint}`,
    layer, found.where,
  );
}
