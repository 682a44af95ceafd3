// Host wrapper of the attention probability map.
import { ceilDiv, f32, u32, type Dispatch } from '../kernel';
import type { Tensor } from '../tensor';
import probsWgsl from './probs.wgsl';

/** q (H, S, d), k (KV, S, d), lse (H, S) -> P (H, S, S). */
export function probsDispatch(q: Tensor, k: Tensor, lse: Tensor, P: Tensor, scale: number): Dispatch {
  const [H, S, d] = q.shape;
  const KV = k.shape[0];
  if (H % KV) throw new Error(`attention map: ${H} query heads over ${KV} kv heads`);
  return {
    kernel: { label: 'attention map', code: probsWgsl },
    buffers: [q.buffer, k.buffer, lse.buffer, P.buffer],
    params: [u32(S), u32(d), u32(H / KV), f32(scale)],
    workgroups: [ceilDiv(S, 16), ceilDiv(S, 16), H],
  };
}
