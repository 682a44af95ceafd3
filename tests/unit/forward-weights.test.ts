// Host side of the forward pass: exact widening of F16/BF16 weights, RoPE frequencies, and the
// per-family weight plan's checks (missing tensors, wrong shapes) with their messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { f16ToNumber, widenToF32 } from '../../gpu/forward/widen';
import { ropeInvFreqF32, ropeTablesHost } from '../../gpu/forward/rope';
import { transposeHost } from '../../gpu/forward/matmul';
import { bf16BitsToF32, f16BitsToF32 } from '../../src/model/loader/dtypes';
import { planWeights } from '../../src/model/weight-plan';
import { loadSpec } from '../../src/model/build';
import { ropeInvFreqRef } from '../../src/reference/forward-ref';
import type { RopeConfig } from '../../src/model/config';
import { mapWeightSource, tinyConfig, tinyWeights, encodeTensor } from '../gpu/forward-random-model';
import { freshSeed, randn, rng } from '../helpers/gpu';

const sameValue = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);

test('F16 widening is exact for all 65536 bit patterns (subnormals, +-0, +-inf, NaN)', () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const got = widenToF32('F16', new Uint8Array(bits.buffer), 65536, 'all f16');
  for (let h = 0; h < 65536; h++) {
    // Two independent decoders: the loader's and this one's bit-level definition.
    assert.ok(sameValue(got[h], f16BitsToF32(h)) && sameValue(got[h], Math.fround(f16ToNumber(h))), `f16 0x${h.toString(16)}: ${got[h]} vs ${f16BitsToF32(h)}`);
  }
  assert.equal(got[0x0001], 2 ** -24, 'smallest subnormal');
  assert.equal(got[0x03ff], 1023 * 2 ** -24, 'largest subnormal');
  assert.equal(got[0x7c00], Infinity);
  assert.equal(got[0xfc00], -Infinity);
  assert.ok(Object.is(got[0x8000], -0));
});

test('BF16 widening is exact for all 65536 bit patterns', () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const got = widenToF32('BF16', new Uint8Array(bits.buffer), 65536, 'all bf16');
  for (let h = 0; h < 65536; h++) assert.ok(sameValue(got[h], bf16BitsToF32(h)), `bf16 0x${h.toString(16)}`);
});

test('F32 and 2-byte widening read misaligned byte views; bad dtype or length is named', () => {
  const seed = freshSeed();
  const vals = randn(rng(seed), 9);
  const buf = new Uint8Array(1 + 36);
  buf.set(new Uint8Array(vals.buffer), 1);
  assert.deepEqual(widenToF32('F32', buf.subarray(1), 9, 't'), vals);
  const h = encodeTensor('h', [9], vals, 'BF16');
  const odd = new Uint8Array(1 + h.bytes.length);
  odd.set(h.bytes, 1);
  assert.deepEqual(widenToF32('BF16', odd.subarray(1), 9, 't'), widenToF32('BF16', h.bytes, 9, 't'));
  assert.throws(() => widenToF32('I64', new Uint8Array(8), 1, 'Tensor "x"'), /Tensor "x" is I64; weights must be F32, F16 or BF16/);
  assert.throws(() => widenToF32('F16', new Uint8Array(6), 4, 'Tensor "y"'), /Tensor "y": 6 bytes for 4 F16 values \(8 expected\)/);
});

// RoPE: transformers' float32 frequencies against the float64 transcription: a few f32 ulps
// (rel 1e-6); the llama3 regimes (kept, divided by factor, blended) all occur for these settings.
const ropes: RopeConfig[] = [
  { theta: 10000, type: 'default' },
  { theta: 1000000, type: 'default' },
  { theta: 500000, type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
  { theta: 500000, type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
];
for (const rope of ropes) {
  for (const hd of [64, 128, 12]) {
    test(`RoPE inv_freq (${rope.type}, theta ${rope.theta}${rope.factor ? `, factor ${rope.factor}, original ${rope.originalMaxPositionEmbeddings}` : ''}), hd ${hd}: f32 within 1e-6 of float64`, () => {
      const f = ropeInvFreqF32(rope, hd);
      const r = ropeInvFreqRef(rope, hd);
      for (let i = 0; i < hd / 2; i++) assert.ok(Math.abs(f[i] - r[i]) <= 1e-6 * r[i], `inv_freq[${i}] ${f[i]} vs ${r[i]}`);
      if (rope.type === 'llama3') {
        const plain = ropeInvFreqRef({ theta: rope.theta, type: 'default' }, hd);
        const kinds = new Set(Array.from(r, (v, i) => (v === plain[i] ? 'kept' : Math.abs(v - plain[i] / rope.factor!) < 1e-15 * plain[i] ? 'scaled' : 'blended')));
        if (hd >= 64) assert.deepEqual([...kinds].sort(), ['blended', 'kept', 'scaled'], 'all three llama3 regimes occur');
      }
      const t = ropeTablesHost(rope, hd, 5);
      for (let i = 0; i < hd / 2; i++) assert.ok(t.cos[i] === 1 && t.sin[i] === 0, 'position 0 does not rotate');
      // A decode step's one row at position 3 is the prefill table's row 3, bit for bit.
      const row = ropeTablesHost(rope, hd, 1, 3);
      assert.deepEqual([Array.from(row.cos), Array.from(row.sin)], [Array.from(t.cos.subarray(3 * hd / 2, 4 * hd / 2)), Array.from(t.sin.subarray(3 * hd / 2, 4 * hd / 2))]);
    });
  }
}

test('transposeHost swaps rows and columns', () => {
  const a = Float32Array.from({ length: 6 }, (_, i) => i); // (2, 3)
  assert.deepEqual(Array.from(transposeHost(a, 2, 3)), [0, 3, 1, 4, 2, 5]);
});

test('weight plan: a missing tensor is named with its expected shape and similar names', () => {
  const c = tinyConfig({ family: 'llama' });
  const m = tinyWeights(c, 1);
  m.delete('model.layers.1.self_attn.k_proj.weight');
  assert.throws(() => planWeights(c, mapWeightSource(m)), /Missing tensor "model\.layers\.1\.self_attn\.k_proj\.weight" \(blocks\.1\.attention\.k\.weight, expected shape \(20, 40\)[^]*Similar names in the checkpoint: model\.layers\.0\.self_attn\.k_proj\.weight/);
});

test('weight plan: a misshapen tensor is named with found and expected shapes', () => {
  const c = tinyConfig({ family: 'qwen3', headDim: 12 });
  const m = tinyWeights(c, 2);
  m.set('model.layers.0.self_attn.q_norm.weight', encodeTensor('model.layers.0.self_attn.q_norm.weight', [10], new Float32Array(10), 'F32'));
  assert.throws(() => planWeights(c, mapWeightSource(m)), /Tensor "model\.layers\.0\.self_attn\.q_norm\.weight" \(blocks\.0\.attention\.qNorm\.weight\) has shape \(10\); the config expects \(12\)/);
  const g = tinyConfig({ family: 'gpt2' });
  const gm = tinyWeights(g, 3);
  gm.set('transformer.h.0.attn.c_attn.weight', encodeTensor('transformer.h.0.attn.c_attn.weight', [120, 40], new Float32Array(4800), 'F32'));
  assert.throws(() => planWeights(g, mapWeightSource(gm)), /"transformer\.h\.0\.attn\.c_attn\.weight" .* has shape \(120, 40\); the config expects \(40, 120\)/);
});

test('weight plan: integer weights are refused; lm_head absent means tied, present means untied', () => {
  const c = tinyConfig({ family: 'mistral' });
  const m = tinyWeights(c, 4);
  assert.equal(planWeights(c, mapWeightSource(m)).tiedEmbeddings, false);
  m.delete('lm_head.weight');
  assert.equal(planWeights(c, mapWeightSource(m)).tiedEmbeddings, true);
  m.set('model.norm.weight', { name: 'model.norm.weight', dtype: 'I32', shape: [40], bytes: new Uint8Array(160) });
  assert.throws(() => planWeights(c, mapWeightSource(m)), /"model\.norm\.weight" \(finalNorm\.weight\) is I32; weights must be F32, F16 or BF16/);
});

test('weight plan: GPT-2 c_attn splits into q, k, v Linears (out, in) and Conv1D weights transpose', () => {
  const c = tinyConfig({ family: 'gpt2' });
  const w = mapWeightSource(tinyWeights(c, 5));
  const plan = planWeights(c, w);
  const H = c.hiddenSize;
  const stored = widenToF32('F32', w.get('transformer.h.0.attn.c_attn.weight').bytes, H * 3 * H, 'c_attn'); // (in H, out 3H)
  const kSpec = plan.specs.find((s) => s.role === 'blocks.0.attention.k.weight')!;
  const k = loadSpec(w, kSpec); // (H out, H in): row o = output H + o
  for (const [o, i] of [[0, 0], [7, 3], [H - 1, H - 1]]) assert.equal(k[o * H + i], stored[i * 3 * H + H + o]);
  const bias = loadSpec(w, plan.specs.find((s) => s.role === 'blocks.0.attention.v.bias')!);
  const storedBias = widenToF32('F32', w.get('transformer.h.0.attn.c_attn.bias').bytes, 3 * H, 'b');
  assert.deepEqual(bias, storedBias.slice(2 * H, 3 * H));
});
