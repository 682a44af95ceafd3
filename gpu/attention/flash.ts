// Host wrapper of the dense flash-attention kernel (tiled.wgsl, MODE dense): all heads in one
// dispatch, GQA through `group` = heads / kvHeads, any S and d <= 128.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { ceilDiv, f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll } from '../tensor';
import { checkAttentionShape, type AttentionShape } from './shapes';
import { checkTile, chooseTile, tiledSource, type AttentionTile } from './tiled';

export interface DenseOutputs {
  /** (heads, S, d) f32 */
  out: Tensor;
  /** (heads, S) f32: natural log of sum_{j <= i} exp(scale q_i . k_j) */
  lse: Tensor;
}

/** The dispatch that writes `out` and `lse`; `scale` defaults to 1/sqrt(d). `tile` forces a tile
 * shape (tests use it to cover shapes the local adapter would not pick). */
export function flashDispatch(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, o: DenseOutputs, scale = 1 / Math.sqrt(s.d), tile?: AttentionTile): Dispatch {
  checkAttentionShape('dense attention', s, q, k, v);
  const t = tile ?? chooseTile(ctx.device, s.d, true);
  if (tile) checkTile(ctx.device, tile, s.d, true);
  // Unused index bindings (sparse / sampled-row lists) are bound to q: read-only, never read.
  return {
    kernel: { label: 'flash attention', code: tiledSource(t, s.d, 'dense', true), entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, v.buffer, q.buffer, q.buffer, q.buffer, o.out.buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(0)],
    workgroups: [ceilDiv(s.S, 4 * t.TY), s.heads],
  };
}

/** Fresh NaN-poisoned output tensors for a dense pass. */
export function createDenseOutputs(ctx: GpuContext, s: AttentionShape, label = 'dense'): DenseOutputs {
  return {
    out: createTensor(ctx, `${label} out`, [s.heads, s.S, s.d], true), // (heads, S, d) f32
    lse: createTensor(ctx, `${label} lse`, [s.heads, s.S], true), // (heads, S) f32
  };
}

export function destroyDenseOutputs(o: DenseOutputs): void {
  destroyAll(o.out, o.lse);
}
