// Host wrapper of SampleAttention stage 2 on the GPU: from the column scores (heads, S) to each
// head's kept-key mask, key count, stage-1 estimate and ascending key list, with no copy of the
// scores to the host.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { ceilDiv, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll } from '../tensor';
import stage2Wgsl from './stage2.wgsl';

const WG = 256;
const BLOCK = 512;

export interface Stage2Outputs {
  /** (heads, S) u32: 1 = key j is in I_KV */
  mask: Tensor;
  /** (heads, S) u32: I_KV ascending in the first k slots of each head */
  keyList: Tensor;
  /** (heads, 2) u32: k, then the stage-1 estimate as f32 bits */
  stats: Tensor;
  /** (heads, 2) f32: alpha, n per head (input) */
  headParams: Tensor;
  /** (heads, P) f32 / u32 scratch of the sort */
  sortVal: Tensor;
  sortIdx: Tensor;
  P: number;
}

export function sortLength(S: number): number {
  let P = BLOCK;
  while (P < S) P *= 2;
  return P;
}

/** Outputs plus the per-head (alpha, n) input; u32 buffers are NaN-poisoned too (0x7fc00000). */
export function createStage2(ctx: GpuContext, heads: number, S: number, alphas: readonly number[], nRows: readonly number[]): Stage2Outputs {
  if (alphas.length !== heads || nRows.length !== heads) throw new RangeError(`stage 2: need one alpha and one n per head (${heads}); got ${alphas.length} and ${nRows.length}.`);
  alphas.forEach((a, h) => {
    if (!(a > 0 && a <= 1)) throw new RangeError(`stage 2: head ${h} alpha ${a} is outside (0, 1].`);
  });
  const P = sortLength(S);
  const hp = new Float32Array(heads * 2);
  for (let h = 0; h < heads; h++) { hp[2 * h] = alphas[h]; hp[2 * h + 1] = nRows[h]; }
  const headParams = createTensor(ctx, 'stage2 alpha, n', [heads, 2]); // (heads, 2) f32
  ctx.device.queue.writeBuffer(headParams.buffer, 0, hp);
  return {
    mask: createTensor(ctx, 'stage2 key mask', [heads, S], true), // (heads, S) u32
    keyList: createTensor(ctx, 'stage2 key list', [heads, S], true), // (heads, S) u32
    stats: createTensor(ctx, 'stage2 stats', [heads, 2], true), // (heads, 2) u32
    headParams,
    sortVal: createTensor(ctx, 'stage2 sort values', [heads, P]), // (heads, P) f32
    sortIdx: createTensor(ctx, 'stage2 sort indices', [heads, P]), // (heads, P) u32
    P,
  };
}

export function destroyStage2(o: Stage2Outputs): void {
  destroyAll(o.mask, o.keyList, o.stats, o.headParams, o.sortVal, o.sortIdx);
}

export function stage2Dispatches(ctx: GpuContext, heads: number, S: number, scores: Tensor, o: Stage2Outputs): Dispatch[] {
  if (scores.shape[0] !== heads || scores.shape[1] !== S) throw new RangeError(`stage 2: scores have shape (${scores.shape.join(', ')}); expected (heads, S) = (${heads}, ${S}).`);
  const P = o.P;
  const buffers = [scores.buffer, o.sortVal.buffer, o.sortIdx.buffer, o.headParams.buffer, o.stats.buffer, o.mask.buffer, o.keyList.buffer];
  const params = (k: number, j: number) => [u32(S), u32(P), u32(k), u32(j), u32(heads), u32(0), u32(0), u32(0)];
  const kernel = (entryPoint: string) => ({ label: `stage2 ${entryPoint}`, code: stage2Wgsl, entryPoint });
  const out: Dispatch[] = [{ kernel: kernel('sort_init'), buffers, params: params(0, 0), workgroups: [P / BLOCK, heads] }];
  for (let k = 2 * BLOCK; k <= P; k *= 2) {
    for (let j = k / 2; j >= BLOCK; j /= 2) out.push({ kernel: kernel('sort_global_step'), buffers, params: params(k, j), workgroups: [ceilDiv(P / 2, WG), heads] });
    out.push({ kernel: kernel('sort_local_merge'), buffers, params: params(k, 0), workgroups: [P / BLOCK, heads] });
  }
  out.push({ kernel: kernel('select_count'), buffers, params: params(0, 0), workgroups: [heads] });
  out.push({ kernel: kernel('write_mask'), buffers, params: params(0, 0), workgroups: [ceilDiv(S, WG), heads] });
  out.push({ kernel: kernel('compact'), buffers, params: params(0, 0), workgroups: [heads] });
  return out;
}
