// The studio's view of the forward pass (src/model/forward): run the prefill and keep every
// layer's post-RoPE q, k, v (and the dense flash pass's log-sum-exp) on the GPU, in buffers of the
// engine's own, copied on the GPU as each layer's attention inputs appear (forward's onLayerQKV):
// nothing is read back. Host copies are made only when a CPU computation asks (readCapture).
import type { GpuContext } from '../../gpu/device';
import { createTensor, destroyAll, readTensor, type Tensor } from '../../gpu/tensor';
import { forward, type Model } from '../model/forward';
import type { QKCapture } from '../sampleattention/studies/rivals-study';
import { CancelledError } from './cancel';

/** One layer's attention inputs, kept on the GPU for the selection. */
export interface GpuLayer {
  q: Tensor; // (heads, S, hd) f32, post-RoPE
  k: Tensor; // (kvHeads, S, hd) f32, post-RoPE
  /** Always after a prefill; a capture file may lack it (tools/capture --no-v). */
  v?: Tensor; // (kvHeads, S, hd) f32
  /** The prefill's dense log-sum-exp, when its flash pass ran. */
  lse?: Tensor; // (heads, S) f32
}


/** Runs the prefill and returns every layer's q, k, v on the GPU; `onLayer(done, total)` reports
 * progress. On failure (or cancel) nothing is left allocated. */
export async function capturePrefill(ctx: GpuContext, model: Model, ids: Int32Array, layers: number, onLayer: (done: number, total: number) => void, signal?: AbortSignal): Promise<GpuLayer[]> {
  const kept: GpuLayer[] = [];
  const copy = (enc: GPUCommandEncoder, src: Tensor, label: string) => {
    const t = createTensor(ctx, label, src.shape); // the shape of src: (heads | kvHeads, S, hd) or (heads, S) f32
    enc.copyBufferToBuffer(src.buffer, 0, t.buffer, 0, src.shape.reduce((a, b) => a * b, 1) * 4);
    return t;
  };
  try {
    await forward(model, ids, {
      // The studio draws attention, not predictions: skip the LM head (a large vocab matmul).
      logits: 'none',
      onLayerQKV: (l, t, enc) => {
        kept.push({ q: copy(enc, t.q, `q.${l}`), k: copy(enc, t.k, `k.${l}`), v: copy(enc, t.v, `v.${l}`), lse: t.lse && copy(enc, t.lse, `lse.${l}`) });
      },
      onProgress: (done, total) => {
        // Cancelling between layers: the forward pass frees its buffers when this throws.
        if (signal?.aborted) throw new CancelledError();
        onLayer(done, total);
      },
    });
    if (kept.length !== layers) throw new Error(`the forward pass handed over ${kept.length} layers' q/k/v, not ${layers} (onLayerQKV).`);
    return kept;
  } catch (e) {
    for (const g of kept) destroyAll(g.q, g.k, g.v, g.lse);
    throw e;
  }
}

/** Reads every layer's q and k back to the host, for the CPU float64 studies (rivals). */
export async function readCapture(ctx: GpuContext, layers: readonly GpuLayer[], numKvHeads: number): Promise<QKCapture> {
  const q: Float32Array[] = [], k: Float32Array[] = [];
  for (const g of layers) {
    q.push(await readTensor(ctx, g.q));
    k.push(await readTensor(ctx, g.k));
  }
  const [numHeads, S, d] = layers[0].q.shape;
  return { S, d, numHeads, numKvHeads, q, k };
}
