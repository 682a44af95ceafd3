// SampleAttention inside the model: an AttentionOverride for forward() that replaces every head's
// attention by the sparse output over SampleAttention's mask, and records each layer's measures,
// so the loss of accuracy is measured on the model's own outputs.
import type { GpuContext } from '../../../gpu/device';
import type { Tensor } from '../../../gpu/tensor';
import type { AttentionOverride } from '../../model/forward';
import { runSampleAttention } from './layer-run';
import type { HeadResult, SettingLike } from '../spec/setting';
import type { HeadShape } from '../studies/tune';

/** params: one setting for all, or params[layer][head] (HeadSetting of either variant, or
 * SampleParams = tokens). onLayer receives each layer's selections. */
export function sampleAttentionOverride(
  ctx: GpuContext,
  shape: HeadShape,
  params: SettingLike | readonly (readonly SettingLike[])[],
  onLayer?: (layer: number, heads: HeadResult[]) => void,
): AttentionOverride {
  return async (_ctx: GpuContext, layer: number, q: Tensor, k: Tensor, v: Tensor, out: Tensor) => {
    const S = q.shape[1];
    const p = Array.isArray(params) ? (params as readonly (readonly SettingLike[])[])[layer] : (params as SettingLike);
    if (!p) throw new Error(`no SampleAttention parameters for layer ${layer}`);
    const r = await runSampleAttention(ctx, { q, k, v, heads: shape.heads, kvHeads: shape.kvHeads, S, d: shape.headDim, params: p, tensorCores: shape.tensorCores });
    try {
      const sparseOut = r.tensors.sparse.out;
      if (!sparseOut) throw new Error('SampleAttention returned no output tensor although v was given');
      const enc = ctx.device.createCommandEncoder({ label: `SampleAttention output, layer ${layer}` });
      enc.copyBufferToBuffer(sparseOut.buffer, 0, out.buffer, 0, shape.heads * S * shape.headDim * 4);
      ctx.device.queue.submit([enc.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
      onLayer?.(layer, r.heads);
    } finally {
      r.dispose();
    }
  };
}

/** A fresh override per forward pass (the near-lossless check's SparseFactory). */
export function sampleAttentionFactory(ctx: GpuContext, shape: HeadShape, params: SettingLike | readonly (readonly SettingLike[])[]) {
  return (onLayer?: (layer: number, heads: HeadResult[]) => void): AttentionOverride => sampleAttentionOverride(ctx, shape, params, onLayer);
}
