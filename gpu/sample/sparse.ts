// Host wrapper of the sparse SampleAttention kernel: all heads in one dispatch; the key set comes
// from stage 2 on the GPU (keyList + keyStats) or from the host (uploadKeySets).
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { ceilDiv, f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll, uploadU32 } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import { checkTile, chooseTile, tiledSource, type AttentionTile } from '../attention/tiled';

export interface KeySets {
  /** (heads, S) u32: kept keys of head h ascending in its first keyStats[2h] slots */
  keyList: GPUBuffer;
  /** (heads, 2) u32: k per head (second slot unused by the kernel) */
  keyStats: GPUBuffer;
  /** (heads) u32: window w per head (the kernel keeps max(w, 1) diagonals) */
  windows: GPUBuffer;
}

/** Key sets given on the host (ascending, distinct, < S) and one window per head. */
export function uploadKeySets(ctx: GpuContext, S: number, keys: readonly (readonly number[])[], windows: readonly number[]): KeySets {
  const heads = keys.length;
  if (windows.length !== heads) throw new RangeError(`sparse attention: ${windows.length} windows for ${heads} key sets; give one window per head.`);
  const list = new Uint32Array(heads * S);
  const stats = new Uint32Array(heads * 2);
  keys.forEach((ks, h) => {
    ks.forEach((j, t) => {
      if (!Number.isInteger(j) || j < 0 || j >= S) throw new RangeError(`sparse attention: head ${h} key ${j} is outside 0..${S - 1}.`);
      if (t > 0 && j <= ks[t - 1]) throw new RangeError(`sparse attention: head ${h} keys must be strictly ascending (${j} after ${ks[t - 1]}).`);
      list[h * S + t] = j;
    });
    stats[2 * h] = ks.length;
  });
  windows.forEach((w, h) => {
    if (!Number.isInteger(w) || w < 0 || w > S) throw new RangeError(`sparse attention: head ${h} window ${w} is not an integer in 0..${S}.`);
  });
  return {
    keyList: uploadU32(ctx, 'sparse key list', list), // (heads, S) u32
    keyStats: uploadU32(ctx, 'sparse key counts', stats), // (heads, 2) u32
    windows: uploadU32(ctx, 'sparse windows', windows), // (heads) u32
  };
}

export function destroyKeySets(k: KeySets): void {
  destroyAll(k.keyList, k.keyStats, k.windows);
}

export interface SparseOutputs {
  /** (heads, S, d) f32; absent when only the log-sum-exp is wanted */
  out?: Tensor;
  /** (heads, S) f32: log of sum over kept keys of exp(scale q_i . k_j) */
  lse: Tensor;
  /** (4) f32 stand-in bound as `out` when there is none: two writable bindings may not alias. */
  placeholder?: Tensor;
}

export function createSparseOutputs(ctx: GpuContext, s: AttentionShape, withValues: boolean): SparseOutputs {
  return {
    out: withValues ? createTensor(ctx, 'sparse out', [s.heads, s.S, s.d], true) : undefined, // (heads, S, d) f32
    lse: createTensor(ctx, 'sparse lse', [s.heads, s.S], true), // (heads, S) f32
    placeholder: withValues ? undefined : createTensor(ctx, 'sparse out placeholder', [4]), // (4) f32, never written
  };
}

export function destroySparseOutputs(o: SparseOutputs): void {
  destroyAll(o.out, o.lse, o.placeholder);
}

/** Without `v` (and o.out) the kernel computes only the sparse log-sum-exp. The kernel is the
 * dense one's inner loop (gpu/attention/tiled.wgsl, MODE sparse) over the window band's key tiles
 * and the kept keys gathered into tiles. `tile` forces a tile shape (tests). */
export function sparseDispatch(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, keys: KeySets, o: SparseOutputs, scale = 1 / Math.sqrt(s.d), tile?: AttentionTile): Dispatch {
  checkAttentionShape('sparse attention', s, q, k, v);
  if (!!v !== !!o.out) throw new Error('sparse attention: give both v and an output tensor, or neither (log-sum-exp only).');
  const withV = !!v;
  const t = tile ?? chooseTile(ctx.device, s.d, withV);
  if (tile) checkTile(ctx.device, tile, s.d, withV);
  // Without values, k stands in for the unused v binding (never read: WITH_V is false).
  return {
    kernel: { label: withV ? 'sparse attention' : 'sparse lse', code: tiledSource(t, s.d, 'sparse', withV), entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, (v ?? k).buffer, keys.keyList, keys.keyStats, keys.windows, (o.out ?? o.placeholder ?? o.lse).buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(0)],
    workgroups: [ceilDiv(s.S, 4 * t.TY), s.heads],
  };
}
