// A layer's heads split into groups that one set of kernels can run: all `tokens` heads, and the
// `blocks` heads of each block size (the blocks kernels take one b, which sets the shape of their
// outputs). A group that is every head of the layer runs on the layer's own tensors; any other
// group runs on compact copies of its heads (gathered here, its outputs scattered back).
//
// Why gather rather than give every kernel a head list: the kernels index head h as row block h of
// q and kv head h / group of k and v; the stage-1, stage-2, sparse, f16 and blocks kernels all
// share that layout, and a head offset or list would have to enter each of them (and their tests).
// A copy of q's group rows and of the kv heads they read is one copyBufferToBuffer per head,
// small beside the attention itself, and leaves every kernel as it is tested.
import type { GpuContext } from '../../../gpu/device';
import type { BufferCopy } from '../../../gpu/kernel';
import { createTensor, destroyAll, type Tensor } from '../../../gpu/tensor';
import type { AttentionShape } from '../../../gpu/attention/shapes';
import { kvHeadOf } from '../spec/reference';
import { validateSetting, type HeadSetting, type SettingLike, type Variant } from '../spec/setting';

export interface HeadGroup {
  variant: Variant;
  /** blocks: the block size every head of the group uses. */
  blockSize?: number;
  /** The layer's query heads of the group, ascending. */
  heads: number[];
}

/** One setting repeated, or one per query head; each validated (a SampleParams is `tokens`). */
export function perHeadSettings(params: SettingLike | readonly SettingLike[], heads: number, what = 'runSampleAttention'): HeadSetting[] {
  const list = Array.isArray(params) ? [...(params as readonly SettingLike[])] : Array.from({ length: heads }, () => params as SettingLike);
  if (list.length !== heads) throw new RangeError(`${what}: ${list.length} parameter sets for ${heads} heads; give one per query head or a single set.`);
  return list.map((p) => validateSetting(p));
}

/** The groups, ordered by their first head: tokens heads together, blocks heads by block size. */
export function headGroups(settings: readonly HeadSetting[]): HeadGroup[] {
  const groups = new Map<string, HeadGroup>();
  settings.forEach((s, h) => {
    const key = s.variant === 'blocks' ? `blocks:${s.blockSize}` : 'tokens';
    let g = groups.get(key);
    if (!g) groups.set(key, (g = s.variant === 'blocks' ? { variant: 'blocks', blockSize: s.blockSize, heads: [] } : { variant: 'tokens', heads: [] }));
    g.heads.push(h);
  });
  return [...groups.values()];
}

export interface GroupInputs {
  /** The group's own shape: heads = the group's size. */
  shape: AttentionShape;
  /** (gh, S, d) f32 */
  q: Tensor;
  /** (gkv, S, d) f32 */
  k: Tensor;
  /** (gkv, S, d) f32 */
  v?: Tensor;
  /** False when the group is every head: q, k, v are the layer's own. */
  gathered: boolean;
  /** The copies that fill q, k, v; record them before the group's passes. */
  copies: BufferCopy[];
  free(): void;
}

/** The group's q rows and the kv heads they read. When the group holds every query head of each
 * kv head it reads, those kv heads are copied once and grouped-query attention maps as in the
 * layer (compact head i reads compact kv head floor(i / group)); otherwise each query head gets its
 * own copy of its kv head (kvHeads = the group's size). */
export function groupInputs(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, heads: readonly number[]): GroupInputs {
  const { S, d } = shape;
  if (heads.length === shape.heads) return { shape, q, k, v, gathered: false, copies: [], free: () => undefined };
  const ratio = shape.heads / shape.kvHeads;
  const kvOf = heads.map((h) => kvHeadOf(h, shape.heads, shape.kvHeads));
  const distinct = [...new Set(kvOf)];
  const whole = heads.length === distinct.length * ratio;
  const kvList = whole ? distinct : kvOf;
  const gs: AttentionShape = { heads: heads.length, kvHeads: kvList.length, S, d };
  const bytes = S * d * 4;
  const gq = createTensor(ctx, 'group q', [gs.heads, S, d]); // (gh, S, d) f32
  const gk = createTensor(ctx, 'group k', [gs.kvHeads, S, d]); // (gkv, S, d) f32
  const gv = v ? createTensor(ctx, 'group v', [gs.kvHeads, S, d]) : undefined; // (gkv, S, d) f32
  const copies: BufferCopy[] = [
    ...heads.map((h, i) => ({ copy: { src: q.buffer, srcOffset: h * bytes, dst: gq.buffer, dstOffset: i * bytes, size: bytes } })),
    ...kvList.flatMap((g, c) => [k, v].flatMap((x, t) => (x ? [{ copy: { src: x.buffer, srcOffset: g * bytes, dst: (t === 0 ? gk : gv!).buffer, dstOffset: c * bytes, size: bytes } }] : []))),
  ];
  return { shape: gs, q: gq, k: gk, v: gv, gathered: true, copies, free: () => destroyAll(gq, gk, gv) };
}

/** Copies a group tensor's head rows ((gh, ...) with `rowBytes` a head) to the layer's rows `heads`. */
export function scatterHeads(src: GPUBuffer, dst: GPUBuffer, heads: readonly number[], rowBytes: number): BufferCopy[] {
  return heads.map((h, i) => ({ copy: { src, srcOffset: i * rowBytes, dst, dstOffset: h * rowBytes, size: rowBytes } }));
}
