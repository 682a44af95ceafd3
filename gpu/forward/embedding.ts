// Host wrapper of the embedding gather. Token ids are checked on the host (an id past the vocabulary
// would read another tensor's memory or zeros on the GPU, silently).
import type { GpuContext } from '../device';
import { ceilDiv, grid2d, u32, type Dispatch } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import embeddingWgsl from './embedding.wgsl';

export function checkTokenIds(ids: Int32Array, vocab: number): void {
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    if (t < 0 || t >= vocab) throw new RangeError(`token id ${t} at position ${i} is outside the vocabulary [0, ${vocab}): the tokenizer and the model do not match.`);
  }
}

export interface EmbeddingArgs {
  /** (S) u32 token ids, already checked against the vocabulary */
  ids: GPUBuffer;
  S: number;
  /** (vocab, n) f32 */
  wte: Tensor;
  /** (positions >= pos0 + S, n) f32: GPT-2's learned positions, optional */
  wpe?: Tensor;
  /** position of ids[0] (default 0): a decode step after a cached prefix */
  pos0?: number;
  /** (S, n) f32 */
  y: Tensor;
}

export function embeddingDispatch(ctx: GpuContext, a: EmbeddingArgs): Dispatch {
  const n = a.wte.shape[1];
  if (a.y.shape[0] !== a.S || a.y.shape[1] !== n) throw new RangeError(`embedding: y ${a.y.label} ${shapeString(a.y.shape)} must be (S, n) = (${a.S}, ${n}).`);
  const pos0 = a.pos0 ?? 0;
  if (a.wpe && (a.wpe.shape[1] !== n || a.wpe.shape[0] < pos0 + a.S)) {
    throw new RangeError(`embedding: position table ${a.wpe.label} ${shapeString(a.wpe.shape)} has fewer than ${pos0 + a.S} rows of ${n}: the text is longer than the model's positions.`);
  }
  return {
    kernel: { label: 'embedding', code: embeddingWgsl },
    buffers: [a.ids, a.wte.buffer, (a.wpe ?? a.wte).buffer, a.y.buffer],
    params: [u32(a.S), u32(n), u32(a.wpe ? 1 : 0), u32(pos0)],
    workgroups: grid2d(ctx, ceilDiv(a.S * n, 256)),
  };
}
