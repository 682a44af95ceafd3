// The KV cache of greedy generation: per layer, the post-RoPE k and v of every position so far on
// the GPU, (kvHeads, capacity, hd) f32 each. The prefill fills rows 0 .. S - 1 through forward's
// onLayerQKV (whatever attention the prefill ran: dense or SampleAttention); each decode step then
// runs forward on ONE token at position p with `stepAttention(p)` as its attention override, which
// appends the step's k and v at row p and attends its query densely to rows 0 .. p
// (gpu/decode/attend.ts). SampleAttention is a prefill method: decode steps are dense over the cache.
import type { GpuContext } from '../../gpu/device';
import { encodeDispatch } from '../../gpu/kernel';
import { createTensor, destroyAll, type Tensor } from '../../gpu/tensor';
import { decodeAttentionDispatches, decodeScratch } from '../../gpu/decode/attend';
import type { AttentionOverride, LayerQKV } from './forward';
import type { ModelConfig } from './config';

export interface KvCache {
  /** Rows per kv head: the prompt plus the steps that will be run. */
  capacity: number;
  /** Positions filled so far. */
  length: number;
  layers: { k: Tensor; v: Tensor }[]; // each (kvHeads, capacity, hd) f32
  /** forward's onLayerQKV for the prefill: copies each layer's k and v into rows 0 .. S - 1. */
  capture: (layer: number, t: LayerQKV, encoder: GPUCommandEncoder) => void;
  /** The attention override of the decode step at position p (= length before the step). */
  stepAttention: (p: number) => AttentionOverride;
  dispose(): void;
}

/** Bytes of a cache of `capacity` positions: what the memory estimate counts. */
export function kvCacheBytes(c: Pick<ModelConfig, 'numLayers' | 'numKvHeads' | 'headDim'>, capacity: number): number {
  return c.numLayers * 2 * c.numKvHeads * capacity * c.headDim * 4;
}

export function createKvCache(ctx: GpuContext, c: ModelConfig, capacity: number): KvCache {
  const { numKvHeads: kvh, numHeads: heads, headDim: hd } = c;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`KV cache: capacity ${capacity} must be a whole number >= 1.`);
  const owned: Tensor[] = [];
  const t = (label: string, shape: number[]) => {
    const x = createTensor(ctx, label, shape);
    owned.push(x);
    return x;
  };
  try {
    const layers = Array.from({ length: c.numLayers }, (_, l) => ({
      k: t(`k cache ${l}`, [kvh, capacity, hd]), // (kvHeads, capacity, hd) f32
      v: t(`v cache ${l}`, [kvh, capacity, hd]), // (kvHeads, capacity, hd) f32
    }));
    const scratch = decodeScratch(ctx, heads, capacity, hd); // (heads, chunks, hd + 2) f32
    owned.push(scratch);
    const lse = t('decode lse', [heads]); // (heads) f32, not read: the combine writes it anyway
    const cache: KvCache = {
      capacity,
      length: 0,
      layers,
      capture: (layer, x, enc) => {
        const S = x.k.shape[1];
        if (S > capacity) throw new RangeError(`KV cache: a prefill of ${S} positions does not fit its ${capacity} rows.`);
        // (kvHeads, S, hd) into (kvHeads, capacity, hd): one contiguous run of S rows per kv head.
        for (let g = 0; g < kvh; g++) {
          enc.copyBufferToBuffer(x.k.buffer, g * S * hd * 4, layers[layer].k.buffer, g * capacity * hd * 4, S * hd * 4);
          enc.copyBufferToBuffer(x.v.buffer, g * S * hd * 4, layers[layer].v.buffer, g * capacity * hd * 4, S * hd * 4);
        }
        if (layer === c.numLayers - 1) cache.length = S;
      },
      stepAttention: (p) => {
        if (p !== cache.length) throw new Error(`KV cache: a step at position ${p}, but ${cache.length} positions are cached.`);
        if (p >= capacity) throw new RangeError(`KV cache: position ${p} is past its ${capacity} rows.`);
        return (ctx2, layer, q, k, v, out, enc) => {
          // k, v: (kvHeads, 1, hd), the new position's; appended at row p, then attended with 0 .. p.
          for (let g = 0; g < kvh; g++) {
            enc.copyBufferToBuffer(k.buffer, g * hd * 4, layers[layer].k.buffer, (g * capacity + p) * hd * 4, hd * 4);
            enc.copyBufferToBuffer(v.buffer, g * hd * 4, layers[layer].v.buffer, (g * capacity + p) * hd * 4, hd * 4);
          }
          for (const d of decodeAttentionDispatches(ctx2, { q, k: layers[layer].k, v: layers[layer].v, n: p + 1, scratch, out, lse })) encodeDispatch(ctx2, enc, d);
          if (layer === c.numLayers - 1) cache.length = p + 1;
        };
      },
      dispose: () => destroyAll(...owned),
    };
    return cache;
  } catch (e) {
    destroyAll(...owned);
    throw e;
  }
}
