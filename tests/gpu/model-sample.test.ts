// SampleAttention swapped into the model (forward's attention override): with the full causal
// mask (windowRatio 1) the model's logits are the dense model's; with the spec's defaults on a
// random checkpoint they move, and every layer reports its measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { buildModel, forward } from '../../src/model/forward';
import { sampleAttentionOverride } from '../../src/sampleattention/gpu-run/model-attention';
import type { HeadResult } from '../../src/sampleattention/spec/setting';
import { gpu, relError } from '../helpers/gpu';
import { PARITY_DIR, readReference } from '../helpers/parity';

test('model with SampleAttention: full mask reproduces dense logits; defaults give measured, different logits', async () => {
  const ctx = await gpu();
  const ckpt = await loadCheckpoint(nodeFolder(join(PARITY_DIR, 'llama3')));
  const ids = readReference('llama3').inputIds;
  const model = buildModel(ctx, ckpt.config, ckpt.weights);
  const shape = { heads: ckpt.config.numHeads, kvHeads: ckpt.config.numKvHeads, headDim: ckpt.config.headDim };
  try {
    const dense = await forward(model, ids);
    const full = await forward(model, ids, { attention: sampleAttentionOverride(ctx, shape, { alpha: 0.95, rowRatio: 0.05, windowRatio: 1 }) });
    // Same mask, different kernel (sparse vs flash): f32 summation order only.
    const e = relError(full.logits, dense.logits);
    assert.ok(e < 1e-5, `full-mask SampleAttention logits differ from dense by ${e}`);
    const layers: HeadResult[][] = [];
    const sparse = await forward(model, ids, { attention: sampleAttentionOverride(ctx, shape, { alpha: 0.5, rowRatio: 0.05, windowRatio: 0.05 }, (l, h) => (layers[l] = h)) });
    assert.equal(layers.length, ckpt.config.numLayers);
    for (const heads of layers) for (const h of heads) assert.ok(h.density < 1 && h.recallMean < 1 && h.recallMean > 0, `layer head ${h.head}: density ${h.density}, recall ${h.recallMean}`);
    assert.ok(relError(sparse.logits, dense.logits) > 1e-4, 'a sparse mask must change the logits of a random model');
  } finally {
    model.dispose();
  }
});
