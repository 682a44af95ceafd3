// The studio's view of the forward pass (src/model/forward): build a model on the GPU, run the
// prefill and capture every layer's post-RoPE q, k (and v when the forward exposes it).
// The module is found through import.meta.glob so the studio still opens (on synthetic q/k, and
// says so) in a checkout where the forward pass is missing; with it present this is a plain
// lazy import of it.
import type { GpuContext } from '../../gpu/device';
import type { ModelConfig, WeightSource } from '../model/config';

export interface Capture {
  /** Per layer (heads, S, hd) post-RoPE. */
  q: Float32Array[];
  /** Per layer (kvHeads, S, hd) post-RoPE. */
  k: Float32Array[];
  /** Per layer (kvHeads, S, hd), when the forward pass exposes it. */
  v?: Float32Array[];
}

export interface ForwardApi {
  buildModel(ctx: GpuContext, config: ModelConfig, weights: WeightSource): unknown | Promise<unknown>;
  forward(model: unknown, ids: Int32Array, opts: { captureQK?: boolean; captureV?: boolean; onProgress?: (...args: number[]) => void }): Promise<{ q?: Float32Array[]; k?: Float32Array[]; v?: Float32Array[] }>;
}

const candidates = import.meta.glob(['../model/forward.ts', '../model/forward/index.ts']);

/** The forward pass module, or null when this checkout has none. */
export async function loadForward(): Promise<ForwardApi | null> {
  const load = Object.values(candidates)[0];
  if (!load) return null;
  const mod = (await load()) as Partial<ForwardApi>;
  if (typeof mod.buildModel !== 'function' || typeof mod.forward !== 'function') {
    throw new Error('src/model/forward has no buildModel/forward exports; the studio needs both.');
  }
  return mod as ForwardApi;
}

/** Runs the prefill and returns the capture; `onLayer(done, total)` reports progress. */
export async function capturePrefill(api: ForwardApi, model: unknown, ids: Int32Array, layers: number, onLayer: (done: number, total: number) => void): Promise<Capture> {
  const out = await api.forward(model, ids, {
    captureQK: true,
    captureV: true,
    // The forward pass reports (done, total) layers; anything else is ignored.
    onProgress: (done?: number, total?: number) => {
      if (typeof done === 'number') onLayer(done, typeof total === 'number' ? total : layers);
    },
  });
  if (!out.q || !out.k || out.q.length !== layers || out.k.length !== layers) {
    throw new Error(`the forward pass returned no post-RoPE q/k capture for ${layers} layers (captureQK).`);
  }
  return { q: out.q, k: out.k, v: out.v && out.v.length === layers ? out.v : undefined };
}

export function disposeModel(model: unknown): void {
  const m = model as { dispose?: () => void } | null;
  m?.dispose?.();
}
