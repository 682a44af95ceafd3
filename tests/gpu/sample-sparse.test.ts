import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { readTensor, uploadTensor, destroyAll } from '../../gpu/tensor';
import { destroyMaskPlanes, uploadMaskPlanes } from '../../gpu/sample/mask-planes';
import { layerPlaneArrays, tokensPlanes } from '../../src/sampleattention/spec/mask-planes';
import { createDenseOutputs, destroyDenseOutputs, flashDispatch } from '../../gpu/attention/flash';
import { createSparseOutputs, destroyKeySets, destroySparseOutputs, sparseDispatch, uploadKeySets } from '../../gpu/sample/sparse';
import { createMeasureOutputs, destroyMeasureOutputs, measuresDispatch, readMeasures } from '../../gpu/sample/measures';
import { density, denseAttention, headView, keySetOf, kvHeadOf, outputError, rowRecall, sparseAttention } from '../../src/sampleattention/spec/reference';
import { freshSeed, gpu, maxAbsError, relError, rng } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';

// Sparse output: same f32-vs-float64 argument as the dense kernel (attention-flash.test.ts).
const OUT_TOL = 2e-5;
// Recall = exp(lseSparse - lseDense): both lse carry ~1e-6 absolute f32 error at |lse| <= ~10.
const RECALL_TOL = 1e-5;
// Output error is a ratio of two f32 Frobenius norms of (S, d) arrays; the difference of two
// outputs each off by ~1e-6 relative: 1e-5 absolute on the ratio.
const OUTERR_TOL = 1e-5;

interface Case { heads: number; kvHeads: number; S: number; d: number; pattern: 'random' | 'structured'; windows: 'random' | 'zero' | 'full'; keys: 'random' | 'sinks' | 'none' }
const cases: Case[] = [
  { heads: 4, kvHeads: 2, S: 37, d: 24, pattern: 'random', windows: 'random', keys: 'random' },
  { heads: 4, kvHeads: 4, S: 131, d: 40, pattern: 'structured', windows: 'random', keys: 'sinks' },
  { heads: 4, kvHeads: 2, S: 100, d: 64, pattern: 'random', windows: 'zero', keys: 'random' },
  { heads: 2, kvHeads: 1, S: 131, d: 24, pattern: 'random', windows: 'zero', keys: 'none' },
  { heads: 4, kvHeads: 2, S: 100, d: 40, pattern: 'random', windows: 'full', keys: 'random' },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`sparse attention and measures match the reference: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, windows ${c.windows}, keys ${c.keys} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const shape = { heads: c.heads, kvHeads: c.kvHeads, S: c.S, d: c.d };
    const x = attentionInputs(seed, c.heads, c.kvHeads, c.S, c.d, c.pattern);
    const r = rng(seed ^ 0x1234567);
    const keys: number[][] = [], windows: number[] = [];
    for (let h = 0; h < c.heads; h++) {
      windows.push(c.windows === 'zero' ? 0 : c.windows === 'full' ? c.S : Math.floor(r() * c.S * 0.3));
      if (c.keys === 'sinks') keys.push([...x.sinks].sort((a, b) => a - b));
      else if (c.keys === 'none') keys.push([]);
      else keys.push(Array.from({ length: c.S }, (_, j) => j).filter(() => r() < 0.2));
    }
    const q = uploadTensor(ctx, 'q', [c.heads, c.S, c.d], x.q);
    const k = uploadTensor(ctx, 'k', [c.kvHeads, c.S, c.d], x.k);
    const v = uploadTensor(ctx, 'v', [c.kvHeads, c.S, c.d], x.v);
    const ks = uploadKeySets(ctx, c.S, keys, windows);
    const pa = layerPlaneArrays(keys.map((kk, h) => tokensPlanes(keySetOf(kk, c.S), windows[h])));
    const planes = uploadMaskPlanes(ctx, c.heads, c.S, pa.col, pa.diagCum); // (heads, S) u32 each
    const dense = createDenseOutputs(ctx, shape);
    const sparse = createSparseOutputs(ctx, shape, true);
    const meas = createMeasureOutputs(ctx, c.heads, c.S, true);
    await checked(ctx.device, 'sparse test', () => run(ctx, [
      flashDispatch(ctx, shape, q, k, v, dense),
      sparseDispatch(ctx, shape, q, k, v, ks, sparse),
      measuresDispatch(ctx, { heads: c.heads, S: c.S, d: c.d, lseDense: dense.lse, lseSparse: sparse.lse, col: planes.col.buffer, diagCum: planes.diagCum.buffer, outDense: dense.out, outSparse: sparse.out }, meas),
    ]));
    const out = await readTensor(ctx, sparse.out!);
    const recall = await readTensor(ctx, meas.recall);
    const m = await readMeasures(ctx, meas, c.heads, c.S, true);
    for (let h = 0; h < c.heads; h++) {
      const g = kvHeadOf(h, c.heads, c.kvHeads);
      const [qh, kh, vh] = [headView(x.q, h, c.S, c.d), headView(x.k, g, c.S, c.d), headView(x.v, g, c.S, c.d)];
      const set = keySetOf(keys[h], c.S);
      const ref = sparseAttention(qh, kh, vh, c.S, c.d, windows[h], set);
      const e = relError(out.subarray(h * c.S * c.d, (h + 1) * c.S * c.d), ref);
      assert.ok(e < OUT_TOL, `head ${h}: sparse output relative error ${e} >= ${OUT_TOL}`);
      if (c.windows === 'full') {
        const d = denseAttention(qh, kh, vh, c.S, c.d).out;
        assert.ok(relError(out.subarray(h * c.S * c.d, (h + 1) * c.S * c.d), d) < OUT_TOL, `head ${h}: window = S must give dense attention`);
      }
      const refRecall = rowRecall(qh, kh, c.S, c.d, windows[h], set);
      const er = maxAbsError(recall.subarray(h * c.S, (h + 1) * c.S), refRecall);
      assert.ok(er < RECALL_TOL, `head ${h}: recall max abs error ${er} >= ${RECALL_TOL}`);
      let mean = 0, min = Infinity;
      for (const v2 of refRecall) { mean += v2 / c.S; min = Math.min(min, v2); }
      assert.ok(Math.abs(m[h].recallMean - mean) < RECALL_TOL, `head ${h}: recall mean ${m[h].recallMean} vs ${mean}`);
      assert.ok(Math.abs(m[h].recallMin - min) < RECALL_TOL, `head ${h}: recall min ${m[h].recallMin} vs ${min}`);
      assert.equal(m[h].density, density(c.S, windows[h], set), `head ${h}: density must be exact`);
      const oe = outputError(qh, kh, vh, c.S, c.d, windows[h], set);
      assert.ok(Math.abs(m[h].outputError! - oe) < OUTERR_TOL, `head ${h}: output error ${m[h].outputError} vs ${oe}`);
    }
    destroyAll(q, k, v);
    destroyMaskPlanes(planes);
    destroyKeySets(ks);
    destroyDenseOutputs(dense);
    destroySparseOutputs(sparse);
    destroyMeasureOutputs(meas);
  });
}

test('sparse log-sum-exp without values equals the pass with values', async () => {
  const ctx = await gpu();
  const seed = freshSeed();
  const shape = { heads: 2, kvHeads: 1, S: 53, d: 40 };
  const x = attentionInputs(seed, 2, 1, 53, 40);
  const q = uploadTensor(ctx, 'q', [2, 53, 40], x.q);
  const k = uploadTensor(ctx, 'k', [1, 53, 40], x.k);
  const v = uploadTensor(ctx, 'v', [1, 53, 40], x.v);
  const ks = uploadKeySets(ctx, 53, [[0, 5, 20], [3]], [7, 0]);
  const a = createSparseOutputs(ctx, shape, true);
  const b = createSparseOutputs(ctx, shape, false);
  await checked(ctx.device, 'lse-only', () => run(ctx, [sparseDispatch(ctx, shape, q, k, v, ks, a), sparseDispatch(ctx, shape, q, k, undefined, ks, b)]));
  const la = await readTensor(ctx, a.lse), lb = await readTensor(ctx, b.lse);
  assert.equal(maxAbsError(lb, la), 0, `SEED=${seed}: the same arithmetic must give the same bits`);
  destroyAll(q, k, v);
  destroyKeySets(ks);
  destroySparseOutputs(a);
  destroySparseOutputs(b);
});

// Tile shapes the adapter would not pick (TX = 16 and tiny tiles; d > 64), sparse with values and
// lse-only, against the float64 sparse reference with the same tolerance.
for (const c of [
  { tile: { TX: 16, TY: 8 }, S: 131, d: 24, withV: true },
  { tile: { TX: 16, TY: 16 }, S: 131, d: 24, withV: false },
  { tile: { TX: 2, TY: 4 }, S: 61, d: 40, withV: true },
  { tile: { TX: 8, TY: 2 }, S: 47, d: 100, withV: true },
]) {
  const seed = freshSeed();
  test(`sparse attention with tile ${c.tile.TX} x ${c.tile.TY}, S ${c.S}, d ${c.d}, v ${c.withV} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const heads = 2, kvHeads = 1;
    const shape = { heads, kvHeads, S: c.S, d: c.d };
    const x = attentionInputs(seed, heads, kvHeads, c.S, c.d, 'structured');
    const r = rng(seed ^ 0x9e3779b9);
    const keys = [Array.from({ length: c.S }, (_, j) => j).filter(() => r() < 0.25), [...x.sinks].sort((a, b) => a - b)];
    const windows = [Math.floor(r() * c.S * 0.3), 1 + Math.floor(r() * 5)];
    const q = uploadTensor(ctx, 'q', [heads, c.S, c.d], x.q);
    const k = uploadTensor(ctx, 'k', [kvHeads, c.S, c.d], x.k);
    const v = uploadTensor(ctx, 'v', [kvHeads, c.S, c.d], x.v);
    const ks = uploadKeySets(ctx, c.S, keys, windows);
    const sparse = createSparseOutputs(ctx, shape, c.withV);
    await checked(ctx.device, 'tiled sparse', () => run(ctx, [sparseDispatch(ctx, shape, q, k, c.withV ? v : undefined, ks, sparse, undefined, c.tile)]));
    const lse = await readTensor(ctx, sparse.lse);
    const out = c.withV ? await readTensor(ctx, sparse.out!) : undefined;
    for (let h = 0; h < heads; h++) {
      const [qh, kh, vh] = [headView(x.q, h, c.S, c.d), headView(x.k, 0, c.S, c.d), headView(x.v, 0, c.S, c.d)];
      const set = keySetOf(keys[h], c.S);
      if (out) {
        const e = relError(out.subarray(h * c.S * c.d, (h + 1) * c.S * c.d), sparseAttention(qh, kh, vh, c.S, c.d, windows[h], set));
        assert.ok(e < OUT_TOL, `head ${h}: sparse output relative error ${e} >= ${OUT_TOL}`);
      }
      // lse_sparse - lse_dense = log(recall): compare through the float64 recall and dense lse.
      const refRecall = rowRecall(qh, kh, c.S, c.d, windows[h], set);
      const dl = denseAttention(qh, kh, vh, c.S, c.d).lse;
      const want = Array.from(refRecall, (rr, i) => dl[i] + Math.log(rr));
      const el = maxAbsError(lse.subarray(h * c.S, (h + 1) * c.S), want);
      assert.ok(el < 1e-5, `head ${h}: sparse lse max abs error ${el} (1e-5: f32 log-sum-exp at |lse| ~ 10)`);
    }
    destroyAll(q, k, v);
    destroyKeySets(ks);
    destroySparseOutputs(sparse);
  });
}
