// The memory guard's estimate (src/model/memory-plan.ts): its weights against the weight plan of
// each family's tiny checkpoint (what build.ts uploads, f32 and f16), its activations linear in S,
// and the refusals: a buffer over the binding limit, a total over a budget, each a LimitError
// naming the numbers and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGpuMemory, estimateGpuMemory, gpuLimits, guardGpuMemory } from '../../src/model/memory-plan';
import { planWeights } from '../../src/model/weight-plan';
import { isF16Role } from '../../src/model/build';
import { kvCacheBytes } from '../../src/model/kv-cache';
import { LimitError } from '../../gpu/errors';
import { mapWeightSource, tinyConfig, tinyWeights } from '../gpu/forward-random-model';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const MiB = 2 ** 20;

for (const [family, tied] of [['llama', false], ['llama', true], ['gpt2', true], ['qwen2', false], ['qwen3', true]] as const) {
  test(`memory estimate: ${family}${tied ? ' (tied)' : ''} weights are the weight plan's tensors, f32 and f16`, () => {
    const c = tinyConfig({ family, tied });
    const specs = planWeights(c, mapWeightSource(tinyWeights(c, 1))).specs;
    const f32 = specs.reduce((a, s) => a + 4 * numel(s.shape), 0);
    // f16: the Linear matrices and the LM head at 2 bytes; a tied LM head gets its own f16 copy.
    const f16 = specs.reduce((a, s) => a + (isF16Role(s.role) ? 2 : 4) * numel(s.shape), 0) + (c.tiedEmbeddings ? 2 * c.vocabSize * c.hiddenSize : 0);
    assert.equal(estimateGpuMemory(c, { S: 10, precision: 'f32' }).weights, f32);
    assert.equal(estimateGpuMemory(c, { S: 10, precision: 'f16' }).weights, f16);
  });
}

test('memory estimate: activations grow linearly in S; captures and the KV cache as their tensors say', () => {
  const c = tinyConfig({ family: 'llama', vocab: 1000, inter: 300 });
  const act = (S: number) => estimateGpuMemory(c, { S, precision: 'f32', logits: 'last' }).activations;
  const step = act(200) - act(100);
  assert.ok(step > 0);
  assert.equal(act(300) - act(200), step);
  const e = estimateGpuMemory(c, { S: 128, precision: 'f32', logits: 'none', captureLayers: true, kvCache: 150 });
  const perLayer = (c.numHeads * 128 * c.headDim + 2 * c.numKvHeads * 128 * c.headDim + c.numHeads * 128) * 4;
  assert.equal(e.captures, c.numLayers * perLayer);
  assert.equal(e.kvCache, kvCacheBytes(c, 150));
  assert.equal(e.total, e.weights + e.activations + e.sampleAttention + e.captures + e.kvCache);
});

test('memory guard: a buffer over the binding limit and a total over the budget are LimitErrors with the numbers and what to do', () => {
  const c = tinyConfig({ family: 'llama', vocab: 1000, inter: 300 });
  const n = { S: 4096, precision: 'f32' as const, logits: 'last' as const, captureLayers: true };
  const e = estimateGpuMemory(c, n);
  const roomy = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31 };
  assert.doesNotThrow(() => checkGpuMemory(e, n, { ...roomy, budgetBytes: e.total }));
  // The largest buffer at S = 4096 is the MLP's (S, inter) block: 4.7 MiB.
  assert.equal(e.largest.bytes, 4096 * 300 * 4);
  assert.throws(() => checkGpuMemory(e, n, { ...roomy, maxStorageBufferBindingSize: e.largest.bytes - 4 }), (err: unknown) => {
    assert.ok(err instanceof LimitError);
    assert.match(err.message, /at 4096 tokens the largest buffer, MLP up \/ gate \(S, inter\), needs 4\.7 MiB, more than this adapter's 4\.7 MiB per buffer/);
    assert.match(err.message, /fewer tokens .*; or f16 weights .*; or a capture file/);
    assert.equal(err.need, e.largest.bytes);
    return true;
  });
  assert.throws(() => checkGpuMemory(e, n, { ...roomy, budgetBytes: e.total - 1 }), (err: unknown) => {
    assert.ok(err instanceof LimitError);
    assert.match(err.message, new RegExp(`needs about ${(e.total / MiB).toFixed(1)} MiB \\(weights [0-9.]+ MiB, activations [0-9.]+ MiB, captured q/k/v [0-9.]+ MiB\\), more than the [0-9.]+ MiB budget`));
    return true;
  });
  // f16 is not suggested to a run that is already f16.
  assert.throws(() => guardGpuMemory(c, { S: 4096, precision: 'f16' }, { ...roomy, budgetBytes: 1 }), (err: unknown) => err instanceof LimitError && !/f16 weights/.test(err.message));
});

test('memory guard: SA_STUDIO_GPU_BUDGET_MIB sets the budget; a bad value is refused', () => {
  const device = { limits: { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 } } as unknown as GPUDevice;
  assert.equal(gpuLimits(device, '12').budgetBytes, 12 * MiB);
  assert.equal(gpuLimits(device, undefined).budgetBytes, undefined);
  assert.throws(() => gpuLimits(device, 'lots'), /SA_STUDIO_GPU_BUDGET_MIB must be a positive number of MiB, got "lots"/);
});
