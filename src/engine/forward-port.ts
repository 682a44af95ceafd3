// The studio's view of the forward pass (src/model/forward): run the prefill and capture every
// layer's post-RoPE q, k and v, with per-layer progress.
import { forward, type Model } from '../model/forward';
import { CancelledError } from './cancel';

export interface Capture {
  /** Per layer (heads, S, hd) post-RoPE. */
  q: Float32Array[];
  /** Per layer (kvHeads, S, hd) post-RoPE. */
  k: Float32Array[];
  /** Per layer (kvHeads, S, hd). */
  v?: Float32Array[];
}

/** Runs the prefill and returns the capture; `onLayer(done, total)` reports progress. */
export async function capturePrefill(model: Model, ids: Int32Array, layers: number, onLayer: (done: number, total: number) => void, signal?: AbortSignal): Promise<Capture> {
  const out = await forward(model, ids, {
    captureQK: true,
    captureV: true,
    // The studio draws attention, not predictions: skip the LM head (a large vocab matmul).
    logits: 'none',
    onProgress: (done, total) => {
      // Cancelling between layers: the forward pass frees its buffers when this throws.
      if (signal?.aborted) throw new CancelledError();
      onLayer(done, total);
    },
  });
  if (!out.q || !out.k || out.q.length !== layers || out.k.length !== layers) {
    throw new Error(`the forward pass returned no post-RoPE q/k capture for ${layers} layers (captureQK).`);
  }
  return { q: out.q, k: out.k, v: out.v && out.v.length === layers ? out.v : undefined };
}
