// Host wrapper of the per-head measures: row recall, its mean and minimum, the mask's exact entry
// count (density, from the mask planes: either variant) and, with values, the output error. One
// dispatch for all heads.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll, readU32 } from '../tensor';
import measuresWgsl from './measures.wgsl';

export interface MeasureOutputs {
  /** (heads, S) f32: R_i */
  recall: Tensor;
  /** (heads, 5) u32: f32 bits of recall mean, min, ||O_s - O_d||^2, ||O_d||^2; u32 mask count */
  stats: Tensor;
  /** (4) f32 stand-in for the outputs when there are no values */
  placeholder?: Tensor;
}

export function createMeasureOutputs(ctx: GpuContext, heads: number, S: number, withValues: boolean): MeasureOutputs {
  return {
    recall: createTensor(ctx, 'row recall', [heads, S], true), // (heads, S) f32
    stats: createTensor(ctx, 'head measures', [heads, 5], true), // (heads, 5) u32
    placeholder: withValues ? undefined : createTensor(ctx, 'measures placeholder', [4]), // (4) f32, never read
  };
}

export function destroyMeasureOutputs(o: MeasureOutputs): void {
  destroyAll(o.recall, o.stats, o.placeholder);
}

export interface MeasureInputs {
  heads: number;
  S: number;
  d: number;
  /** (heads, S) f32 */
  lseDense: Tensor;
  /** (heads, S) f32 */
  lseSparse: Tensor;
  /** (heads, S) u32 mask plane col (mask-planes.ts) */
  col: GPUBuffer;
  /** (heads, S) u32 mask plane diagCum */
  diagCum: GPUBuffer;
  /** (heads, S, d) f32 each, both or neither */
  outDense?: Tensor;
  outSparse?: Tensor;
}

export function measuresDispatch(ctx: GpuContext, m: MeasureInputs, o: MeasureOutputs): Dispatch {
  if (!!m.outDense !== !!m.outSparse) throw new Error('measures: give both the dense and the sparse output, or neither.');
  const withV = !!m.outDense;
  if (!withV && !o.placeholder) throw new Error('measures: outputs were created with values; create them with withValues = false.');
  const stand = (o.placeholder ?? m.lseDense).buffer;
  return {
    kernel: { label: 'sample measures', code: measuresWgsl, constants: { D: m.d, WITH_V: withV ? 1 : 0 } },
    buffers: [m.lseDense.buffer, m.lseSparse.buffer, m.col, m.diagCum, m.outDense?.buffer ?? stand, m.outSparse?.buffer ?? stand, o.recall.buffer, o.stats.buffer],
    params: [u32(m.S)],
    workgroups: [m.heads],
  };
}

export interface HeadMeasures {
  recallMean: number;
  recallMin: number;
  maskCount: number;
  density: number;
  outputError?: number;
}

/** Reads the (heads, 5) stats back; outputError only when the pass had values. */
export async function readMeasures(ctx: GpuContext, o: MeasureOutputs, heads: number, S: number, withValues: boolean): Promise<HeadMeasures[]> {
  const raw = await readU32(ctx, o.stats.buffer, heads * 5);
  const f = new Float32Array(raw.buffer);
  const causal = (S * (S + 1)) / 2;
  return Array.from({ length: heads }, (_, h) => {
    const num = f[5 * h + 2], den = f[5 * h + 3];
    const r: HeadMeasures = { recallMean: f[5 * h], recallMin: f[5 * h + 1], maskCount: raw[5 * h + 4], density: raw[5 * h + 4] / causal };
    if (withValues) r.outputError = den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    return r;
  });
}
