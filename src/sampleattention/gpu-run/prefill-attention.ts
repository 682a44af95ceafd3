// SampleAttention as the model's prefill attention with nothing else: stage 1, stage 2 and the
// sparse pass, recorded into the forward pass's own encoder (no dense pass, no measures, no read
// back, no wait), the sparse output written straight into forward's attention output. What a
// time-to-first-token measures (`sa-studio ttft`) and what generation's prefill runs; the
// measured run (model-attention.ts) adds the dense pass and the measures for the checks.
import type { GpuContext } from '../../../gpu/device';
import { encodeDispatch } from '../../../gpu/kernel';
import { createTensor, destroyAll } from '../../../gpu/tensor';
import type { AttentionOverride } from '../../model/forward';
import type { SampleParams } from '../spec/params';
import type { HeadShape } from '../studies/tune';
import { destroySelectionStages, perHeadParams, selectionStages, sparseFor } from './layer-run';

export interface PrefillAttention {
  /** forward's attention override */
  attention: AttentionOverride;
  /** Frees every layer's selection buffers; call once the forward pass has returned (its read
   * back of the logits has waited for the GPU). */
  release(): void;
}

/** params: one set for all heads, or params[layer][head]. */
export function sampleAttentionPrefill(ctx: GpuContext, shape: HeadShape, params: SampleParams | SampleParams[][]): PrefillAttention {
  const held: (() => void)[] = [];
  const attention: AttentionOverride = (_ctx, layer, q, k, v, out, enc) => {
    const S = q.shape[1];
    const p = Array.isArray(params) ? params[layer] : params;
    if (!p) throw new Error(`no SampleAttention parameters for layer ${layer}`);
    const s = { heads: shape.heads, kvHeads: shape.kvHeads, S, d: shape.headDim };
    const scale = 1 / Math.sqrt(shape.headDim);
    const st = selectionStages(ctx, s, q, k, perHeadParams(p, shape.heads), scale, shape.tensorCores);
    const lse = createTensor(ctx, 'sparse lse', [shape.heads, S]); // (heads, S) f32, not read
    held.push(() => { destroySelectionStages(st); destroyAll(lse); });
    const sparse = sparseFor(ctx, shape.tensorCores, s, q, k, v, st.keys, { out, lse }, scale);
    for (const d of [...st.dispatches, sparse]) encodeDispatch(ctx, enc, d);
  };
  return { attention, release: () => { for (const free of held.splice(0)) free(); } };
}
