// Greedy generation with a KV cache: one prefill over the prompt (dense, or an attention override
// such as SampleAttention), then one token at a time, each step the model run on that ONE token at
// its position with the cache (kv-cache.ts). The one home of greedy decoding: `sa-studio generate`,
// the near-lossless check's passkeys (`sa-studio eval`, the studio) and the tests all call this.
import { argmax } from './metrics';
import { forward, type AttentionOverride, type Model } from './forward';
import { createKvCache } from './kv-cache';

export interface GenerateOptions {
  /** The prefill's attention (e.g. SampleAttention in every head); decode steps are dense over the cache. */
  attention?: AttentionOverride;
  /** Stop after emitting one of these ids (e.g. the model's eos); the id is kept in the result. */
  stopAt?: readonly number[];
  /** Prefill progress per layer (forward's onProgress; a throw here cancels). */
  onPrefillLayer?: (done: number, of: number) => void;
  /** Called with each new token as it is chosen (its index counts from 0). */
  onToken?: (token: number, index: number) => void;
  /** Called with the (1, vocab) logits each token was chosen from (tests compare them with a full forward). */
  onLogits?: (logits: Float32Array, index: number) => void;
}

export interface Generation {
  tokens: number[];
  /** Wall clock of the prefill, through the first token's logits. */
  prefillMs: number;
  /** Wall clock of the decode steps (tokens 2 .. n). */
  decodeMs: number;
}

/** Up to `steps` greedy tokens after `ids`. */
export async function generateGreedy(model: Model, ids: Int32Array, steps: number, opts: GenerateOptions = {}): Promise<Generation> {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`generate: steps ${steps} must be a whole number >= 1.`);
  const vocab = model.config.vocabSize;
  // The last token is chosen, never run: the cache needs the prompt and steps - 1 more positions.
  const cache = createKvCache(model.ctx, model.config, ids.length + steps - 1);
  const tokens: number[] = [];
  const stop = new Set(opts.stopAt ?? []);
  try {
    const t0 = performance.now();
    const pre = await forward(model, ids, { logits: 'last', attention: opts.attention, onLayerQKV: cache.capture, onProgress: opts.onPrefillLayer });
    let next = argmax(pre.logits, 0, vocab);
    opts.onLogits?.(pre.logits, 0);
    const t1 = performance.now();
    for (;;) {
      tokens.push(next);
      opts.onToken?.(next, tokens.length - 1);
      if (tokens.length === steps || stop.has(next)) break;
      const p = cache.length;
      const r = await forward(model, Int32Array.of(next), { logits: 'last', startPosition: p, attention: cache.stepAttention(p) });
      next = argmax(r.logits, 0, vocab);
      opts.onLogits?.(r.logits, tokens.length);
    }
    return { tokens, prefillMs: t1 - t0, decodeMs: performance.now() - t1 };
  } finally {
    cache.dispose();
  }
}
