// SampleAttention as the model's prefill attention with nothing else: every group's stages and
// sparse pass (selection-plan.ts: any mix of variants per head), recorded into the forward
// pass's own encoder (no dense pass, no measures, no read back, no wait), the sparse output written
// straight into forward's attention output. What a time-to-first-token measures (`sa-studio ttft`)
// and what generation's prefill runs; the measured run (model-attention.ts) adds the dense pass
// and the measures for the checks.
import type { GpuContext } from '../../../gpu/device';
import { encodeStep } from '../../../gpu/kernel';
import { createTensor, destroyAll } from '../../../gpu/tensor';
import type { AttentionOverride } from '../../model/forward';
import type { SettingLike } from '../spec/setting';
import type { HeadShape } from '../studies/tune';
import { perHeadSettings } from './head-groups';
import { selectionPlan } from './selection-plan';

export interface PrefillAttention {
  /** forward's attention override */
  attention: AttentionOverride;
  /** Frees every layer's selection buffers; call once the forward pass has returned (its read
   * back of the logits has waited for the GPU). */
  release(): void;
}

/** params: one setting for all heads, or params[layer][head] (HeadSetting or SampleParams). */
export function sampleAttentionPrefill(ctx: GpuContext, shape: HeadShape, params: SettingLike | readonly (readonly SettingLike[])[]): PrefillAttention {
  const held: (() => void)[] = [];
  const attention: AttentionOverride = (_ctx, layer, q, k, v, out, enc) => {
    const S = q.shape[1];
    const p = Array.isArray(params) ? (params as readonly (readonly SettingLike[])[])[layer] : (params as SettingLike);
    if (!p) throw new Error(`no SampleAttention parameters for layer ${layer}`);
    const s = { heads: shape.heads, kvHeads: shape.kvHeads, S, d: shape.headDim };
    const scale = 1 / Math.sqrt(shape.headDim);
    const lse = createTensor(ctx, 'sparse lse', [shape.heads, S]); // (heads, S) f32, not read
    const plan = selectionPlan(ctx, s, q, k, v, perHeadSettings(p as SettingLike | readonly SettingLike[], shape.heads, 'SampleAttention prefill'), scale, shape.tensorCores, { out, lse });
    held.push(() => { plan.free(); destroyAll(lse); });
    for (const step of plan.steps) encodeStep(ctx, enc, step);
  };
  return { attention, release: () => { for (const free of held.splice(0)) free(); } };
}
