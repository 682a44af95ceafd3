// A capture file as the studies' layer sources: tune (LayerSource), rivals (QKLayerSource) and
// the GPU run over every layer (HostLayerSource) read one layer at a time through CaptureFile, so
// `sa-studio tune|rivals|maps --qk` run the same study code as with --model, only fed from a file.
import type { CaptureFile } from '../formats/capture-file';
import type { HostLayerSource } from '../gpu-run/captured-layers';
import type { QKLayerSource } from './rivals-study';
import type { LayerSource } from './tune';

/** Tune's layers: the first `tokens` of each captured layer (one text: the capture). */
export const captureTuneLayers = (cf: CaptureFile, tokens?: number): LayerSource => ({
  count: cf.info.layers.length,
  S: Math.min(cf.info.S, tokens ?? cf.info.S),
  layer: async (i) => {
    const x = await cf.readLayer(i, { tokens });
    return [{ S: x.T, q: x.q, k: x.k }];
  },
});

/** Rivals' layers: only the first T rows of each head are read. */
export const captureQKLayers = (cf: CaptureFile): QKLayerSource => ({
  S: cf.info.S, d: cf.info.headDim, numHeads: cf.info.heads, numKvHeads: cf.info.kvHeads, numLayers: cf.info.layers.length,
  read: async (l, T) => {
    const x = await cf.readLayer(l, { tokens: T });
    return { q: x.q, k: x.k };
  },
});

/** Every captured layer with v (when the file has it), for runCapturedLayers. */
export const captureHostLayers = (cf: CaptureFile, tokens?: number): HostLayerSource => ({
  count: cf.info.layers.length,
  read: (i) => cf.readLayer(i, { tokens, v: true }),
});
