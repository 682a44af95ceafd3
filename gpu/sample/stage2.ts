// Host wrapper of SampleAttention stage 2 on the GPU: from the column scores (heads, S) to each
// head's kept-key mask, key count, stage-1 estimate and ascending key list, with no copy of the
// scores to the host. One dispatch, one workgroup per head (stage2.wgsl: a threshold search over
// the score bits instead of a sort, on the scores held in registers).
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll } from '../tensor';
import stage2Wgsl from './stage2.wgsl';

export interface Stage2Outputs {
  /** (heads, S) u32: 1 = key j is in I_KV */
  mask: Tensor;
  /** (heads, S) u32: I_KV ascending in the first k slots of each head */
  keyList: Tensor;
  /** (heads, 2) u32: k, then the stage-1 estimate as f32 bits */
  stats: Tensor;
  /** (heads, 2) f32: alpha, n per head (input) */
  headParams: Tensor;
}

/** Outputs plus the per-head (alpha, n) input; u32 buffers are NaN-poisoned too (0x7fc00000). */
export function createStage2(ctx: GpuContext, heads: number, S: number, alphas: readonly number[], nRows: readonly number[]): Stage2Outputs {
  if (alphas.length !== heads || nRows.length !== heads) throw new RangeError(`stage 2: need one alpha and one n per head (${heads}); got ${alphas.length} and ${nRows.length}.`);
  alphas.forEach((a, h) => {
    if (!(a > 0 && a <= 1)) throw new RangeError(`stage 2: head ${h} alpha ${a} is outside (0, 1].`);
  });
  const hp = new Float32Array(heads * 2);
  for (let h = 0; h < heads; h++) { hp[2 * h] = alphas[h]; hp[2 * h + 1] = nRows[h]; }
  const headParams = createTensor(ctx, 'stage2 alpha, n', [heads, 2]); // (heads, 2) f32
  ctx.device.queue.writeBuffer(headParams.buffer, 0, hp);
  return {
    mask: createTensor(ctx, 'stage2 key mask', [heads, S], true), // (heads, S) u32
    keyList: createTensor(ctx, 'stage2 key list', [heads, S], true), // (heads, S) u32
    stats: createTensor(ctx, 'stage2 stats', [heads, 2], true), // (heads, 2) u32
    headParams,
  };
}

export function destroyStage2(o: Stage2Outputs): void {
  destroyAll(o.mask, o.keyList, o.stats, o.headParams);
}

/** Scores each thread keeps in registers (stage2.wgsl): WG x CACHE keys are read once, the rest
 * in every pass (32768 keys at 1024 threads). */
const CACHE = 32;

/** Threads of the one workgroup a head: the most of 1024, 512, 256 the adapter allows (its
 * workgroup arrays: 8 KiB of sums and 8 bytes a thread of scans). */
export function stage2Threads(limits: Pick<GPUSupportedLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX' | 'maxComputeWorkgroupStorageSize'>): number {
  for (const wg of [1024, 512]) {
    if (wg <= limits.maxComputeInvocationsPerWorkgroup && wg <= limits.maxComputeWorkgroupSizeX && 8192 + 8 * wg + 64 <= limits.maxComputeWorkgroupStorageSize) return wg;
  }
  return 256; // WebGPU's guaranteed minimum (16 KiB of workgroup memory holds it)
}

export function stage2Dispatches(ctx: GpuContext, heads: number, S: number, scores: Tensor, o: Stage2Outputs): Dispatch[] {
  if (scores.shape[0] !== heads || scores.shape[1] !== S) throw new RangeError(`stage 2: scores have shape (${scores.shape.join(', ')}); expected (heads, S) = (${heads}, ${S}).`);
  const code = `const WG: u32 = ${stage2Threads(ctx.device.limits)}u;\nconst CACHE: u32 = ${CACHE}u;\n${stage2Wgsl}`;
  return [{
    kernel: { label: 'stage2 select keys', code, entryPoint: 'select_keys' },
    buffers: [scores.buffer, o.headParams.buffer, o.stats.buffer, o.mask.buffer, o.keyList.buffer],
    params: [u32(S), u32(0), u32(0), u32(0)],
    workgroups: [heads],
  }];
}
