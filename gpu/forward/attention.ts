// Host wrapper of the dense causal attention that writes its probability map (attention.wgsl).
// Without a map to capture the forward pass uses gpu/attention/flash instead, which never holds
// the (heads, S, S) map.
import type { GpuContext } from '../device';
import { ceilDiv, f32, grid2d, u32, type Dispatch } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import attentionWgsl from './attention.wgsl';
import reduceWgsl from './reduce.wgsl';

/** The kernel's WGSL with the shared workgroup reduction (reduce.wgsl). */
const attentionWgslFull = reduceWgsl + '\n' + attentionWgsl;

export const ATTENTION_MAX_HEAD_DIM = 256;

export interface AttentionArgs {
  /** (heads, S, hd) f32 */
  q: Tensor;
  /** (kvHeads, S, hd) f32 */
  k: Tensor;
  /** (kvHeads, S, hd) f32 */
  v: Tensor;
  /** (heads, S, S) f32, written: probabilities, zeros above the diagonal */
  probs: Tensor;
  /** (heads, S, hd) f32, written */
  out: Tensor;
  /** default 1 / sqrt(hd) */
  scale?: number;
}

const same = (t: Tensor, want: number[]) => t.shape.length === want.length && t.shape.every((x, i) => x === want[i]);

export function attentionShapeOf(q: Tensor, k: Tensor): { heads: number; kvHeads: number; S: number; hd: number } {
  if (q.shape.length !== 3 || k.shape.length !== 3) throw new RangeError(`attention: q ${shapeString(q.shape)} and k ${shapeString(k.shape)} must be (heads, S, hd) and (kvHeads, S, hd).`);
  const [heads, S, hd] = q.shape;
  const kvHeads = k.shape[0];
  if (heads % kvHeads !== 0) throw new RangeError(`attention: heads (${heads}) is not a multiple of kv heads (${kvHeads}).`);
  if (!same(k, [kvHeads, S, hd])) throw new RangeError(`attention: k ${k.label} ${shapeString(k.shape)} must be (kvHeads, S, hd) = (${kvHeads}, ${S}, ${hd}).`);
  return { heads, kvHeads, S, hd };
}

/** Two dispatches: scores + softmax into `probs`, then probs . v into `out`. */
export function attentionWithProbsDispatches(ctx: GpuContext, a: AttentionArgs): Dispatch[] {
  const { heads, kvHeads, S, hd } = attentionShapeOf(a.q, a.k);
  if (hd > ATTENTION_MAX_HEAD_DIM) throw new RangeError(`attention: head dimension ${hd} is above ${ATTENTION_MAX_HEAD_DIM}.`);
  if (!same(a.v, [kvHeads, S, hd])) throw new RangeError(`attention: v ${a.v.label} ${shapeString(a.v.shape)} must be (${kvHeads}, ${S}, ${hd}).`);
  if (!same(a.probs, [heads, S, S])) throw new RangeError(`attention: probs ${a.probs.label} ${shapeString(a.probs.shape)} must be (heads, S, S) = (${heads}, ${S}, ${S}).`);
  if (!same(a.out, [heads, S, hd])) throw new RangeError(`attention: out ${a.out.label} ${shapeString(a.out.shape)} must be (${heads}, ${S}, ${hd}).`);
  const scale = a.scale ?? 1 / Math.sqrt(hd);
  const params = [u32(S), u32(hd), u32(heads / kvHeads), f32(scale), u32(heads), u32(0), u32(0), u32(0)];
  return [
    {
      kernel: { label: 'attention probs', code: attentionWgslFull, entryPoint: 'probs' },
      buffers: [a.q.buffer, a.k.buffer, a.probs.buffer, a.out.buffer],
      params,
      workgroups: [S, heads],
    },
    {
      kernel: { label: 'attention pv', code: attentionWgslFull, entryPoint: 'pv' },
      buffers: [a.q.buffer, a.v.buffer, a.probs.buffer, a.out.buffer],
      params,
      workgroups: grid2d(ctx, ceilDiv(heads * S * hd, 64)),
    },
  ];
}
