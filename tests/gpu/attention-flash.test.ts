import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { readTensor, uploadTensor, destroyAll } from '../../gpu/tensor';
import { createDenseOutputs, destroyDenseOutputs, flashDispatch } from '../../gpu/attention/flash';
import { denseAttention, headView, kvHeadOf } from '../../src/sampleattention/spec/reference';
import { freshSeed, gpu, maxAbsError, relError } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';

// f32 against float64: dot products of d <= 64 terms and softmax sums of <= 131 terms carry a
// relative rounding error of a few 1e-7; 2e-5 relative (Frobenius) on the output leaves margin
// without letting a wrong mask (an error of order 1e-2 or more) through. lse is a log of sums of
// O(S) magnitude: 1e-5 absolute is ~50 ulps at |lse| ~ 5.
const OUT_TOL = 2e-5;
const LSE_TOL = 1e-5;

const cases = [
  { heads: 4, kvHeads: 2, S: 37, d: 24, pattern: 'random' as const },
  { heads: 4, kvHeads: 4, S: 100, d: 40, pattern: 'structured' as const },
  { heads: 2, kvHeads: 1, S: 131, d: 64, pattern: 'random' as const },
  { heads: 1, kvHeads: 1, S: 1, d: 8, pattern: 'random' as const },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`flash attention equals the float64 reference: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, ${c.pattern} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const shape = { heads: c.heads, kvHeads: c.kvHeads, S: c.S, d: c.d };
    const x = attentionInputs(seed, c.heads, c.kvHeads, c.S, c.d, c.pattern);
    const q = uploadTensor(ctx, 'q', [c.heads, c.S, c.d], x.q);
    const k = uploadTensor(ctx, 'k', [c.kvHeads, c.S, c.d], x.k);
    const v = uploadTensor(ctx, 'v', [c.kvHeads, c.S, c.d], x.v);
    const o = createDenseOutputs(ctx, shape);
    await checked(ctx.device, "test dispatches", () => run(ctx, [flashDispatch(ctx, shape, q, k, v, o)]));
    const out = await readTensor(ctx, o.out);
    const lse = await readTensor(ctx, o.lse);
    for (let h = 0; h < c.heads; h++) {
      const g = kvHeadOf(h, c.heads, c.kvHeads);
      const ref = denseAttention(headView(x.q, h, c.S, c.d), headView(x.k, g, c.S, c.d), headView(x.v, g, c.S, c.d), c.S, c.d);
      const e = relError(out.subarray(h * c.S * c.d, (h + 1) * c.S * c.d), ref.out);
      assert.ok(e < OUT_TOL, `head ${h}: output relative error ${e} >= ${OUT_TOL}`);
      const el = maxAbsError(lse.subarray(h * c.S, (h + 1) * c.S), ref.lse);
      assert.ok(el < LSE_TOL, `head ${h}: lse max abs error ${el} >= ${LSE_TOL}`);
    }
    destroyAll(q, k, v);
    destroyDenseOutputs(o);
  });
}

test('flash attention rejects a k of the wrong shape, naming it', async () => {
  const ctx = await gpu();
  const shape = { heads: 4, kvHeads: 2, S: 5, d: 8 };
  const q = uploadTensor(ctx, 'q', [4, 5, 8], new Float32Array(160));
  const k = uploadTensor(ctx, 'k', [4, 5, 8], new Float32Array(160));
  const o = createDenseOutputs(ctx, shape);
  assert.throws(() => flashDispatch(ctx, shape, q, k, k, o), /k k has shape \(4, 5, 8\); expected \(kvHeads, S, d\) = \(2, 5, 8\)/);
  destroyAll(q, k);
  destroyDenseOutputs(o);
});

// Every tile shape the kernel can be built with on this adapter (the H100 picks 16 x 16, which
// SwiftShader's 32 KiB cannot hold with V; 16 x 8 covers TX = 16 here), against the reference.
const tileCases = [
  { tile: { TX: 16, TY: 8 }, heads: 2, kvHeads: 1, S: 131, d: 24 },
  { tile: { TX: 2, TY: 4 }, heads: 2, kvHeads: 2, S: 45, d: 40 },
  { tile: { TX: 4, TY: 8 }, heads: 3, kvHeads: 1, S: 70, d: 64 },
  { tile: { TX: 8, TY: 2 }, heads: 1, kvHeads: 1, S: 29, d: 100 }, // d > 64: several vec4s per thread
];
for (const c of tileCases) {
  const seed = freshSeed();
  test(`flash attention with tile ${c.tile.TX} x ${c.tile.TY} equals the reference: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const shape = { heads: c.heads, kvHeads: c.kvHeads, S: c.S, d: c.d };
    const x = attentionInputs(seed, c.heads, c.kvHeads, c.S, c.d, 'structured');
    const q = uploadTensor(ctx, 'q', [c.heads, c.S, c.d], x.q);
    const k = uploadTensor(ctx, 'k', [c.kvHeads, c.S, c.d], x.k);
    const v = uploadTensor(ctx, 'v', [c.kvHeads, c.S, c.d], x.v);
    const o = createDenseOutputs(ctx, shape);
    await checked(ctx.device, 'tiled flash', () => run(ctx, [flashDispatch(ctx, shape, q, k, v, o, undefined, c.tile)]));
    const out = await readTensor(ctx, o.out);
    const lse = await readTensor(ctx, o.lse);
    for (let h = 0; h < c.heads; h++) {
      const g = kvHeadOf(h, c.heads, c.kvHeads);
      const ref = denseAttention(headView(x.q, h, c.S, c.d), headView(x.k, g, c.S, c.d), headView(x.v, g, c.S, c.d), c.S, c.d);
      const e = relError(out.subarray(h * c.S * c.d, (h + 1) * c.S * c.d), ref.out);
      assert.ok(e < OUT_TOL, `head ${h}: output relative error ${e} >= ${OUT_TOL}`);
      const el = maxAbsError(lse.subarray(h * c.S, (h + 1) * c.S), ref.lse);
      assert.ok(el < LSE_TOL, `head ${h}: lse max abs error ${el} >= ${LSE_TOL}`);
    }
    destroyAll(q, k, v);
    destroyDenseOutputs(o);
  });
}

test('flash attention refuses a tile that does not fit, naming it', async () => {
  const ctx = await gpu();
  const shape = { heads: 1, kvHeads: 1, S: 5, d: 128 };
  const q = uploadTensor(ctx, 'q', [1, 5, 128], new Float32Array(640));
  const o = createDenseOutputs(ctx, shape);
  const big = { TX: 32, TY: 32 };
  assert.throws(() => flashDispatch(ctx, shape, q, q, q, o, undefined, big), /attention tile 32 x 32/);
  destroyAll(q);
  destroyDenseOutputs(o);
});
