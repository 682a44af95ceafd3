// buildModel's errors name the tensor, and forward refuses ids it cannot embed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { buildModel, forward } from '../../src/model/forward';
import type { WeightSource } from '../../src/model/config';
import { gpu } from '../helpers/gpu';
import { PARITY_DIR } from '../helpers/parity';

test('a missing tensor, a wrong shape and an out-of-vocabulary id each get a clear error', async () => {
  const ctx = await gpu();
  const ckpt = await loadCheckpoint(nodeFolder(join(PARITY_DIR, 'qwen3')));
  const w = ckpt.weights;
  const without: WeightSource = { names: () => w.names().filter((n) => !n.endsWith('layers.1.self_attn.k_norm.weight')), has: (n) => !n.endsWith('layers.1.self_attn.k_norm.weight') && w.has(n), get: (n) => {
    if (n.endsWith('layers.1.self_attn.k_norm.weight')) throw new Error(`no tensor ${n} in model.safetensors`);
    return w.get(n);
  } };
  assert.throws(() => buildModel(ctx, ckpt.config, without), /model\.layers\.1\.self_attn\.k_norm\.weight/);
  assert.throws(() => buildModel(ctx, { ...ckpt.config, intermediateSize: ckpt.config.intermediateSize + 1 }, w), /mlp\.(gate|up)_proj\.weight.*expects \(113, 64\)/);
  const model = buildModel(ctx, ckpt.config, w);
  try {
    await assert.rejects(forward(model, Int32Array.from([1, 2, 640])), /token id 640 at position 2 is outside the vocabulary \[0, 640\)/);
  } finally {
    model.dispose();
  }
});
