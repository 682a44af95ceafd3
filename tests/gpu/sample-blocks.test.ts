// The `blocks` variant on the GPU (gpu/sample/blocks-stages.ts, blocks-sparse.ts) against its
// float64 reference (src/sampleattention/spec/blocks/), on fresh random inputs of awkward sizes (S not a
// multiple of b nor of the 64-row / BK-key tiles, S < b, b = 1), every output NaN-poisoned first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { destroyAll, readTensor, readU32, uploadTensor } from '../../gpu/tensor';
import { uploadSampledRows } from '../../gpu/sample/stage1';
import { blocksStageDispatches, createBlocksStages, destroyBlocksStages } from '../../gpu/sample/blocks-stages';
import { BLOCKS_BQ, blocksKeyTile, blocksSparseDispatch, createBlocksSparseOutputs, destroyBlocksSparseOutputs, uploadBlocksKept } from '../../gpu/sample/blocks-sparse';
import { denseAttention, scoreRow, sparseAttentionWhere } from '../../src/sampleattention/spec/attention';
import { headView, kvHeadOf } from '../../src/sampleattention/spec/reference';
import { blocksSampledRows } from '../../src/sampleattention/spec/blocks/params';
import { selectStrips, stripScores } from '../../src/sampleattention/spec/blocks/selection';
import { blocksMask, blocksPredicate } from '../../src/sampleattention/spec/blocks/mask';
import { freshSeed, gpu, maxAbsError, relError, rng } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';
import { selectStripsF32, tilesWithMask } from '../helpers/blocks';

// Strip scores: each C_J / D_o is a sum of softmax probabilities of the |R| sampled rows, at most
// |R| in all. Each term carries ~1e-6 relative f32 error (the d-term dot product and the row's
// f32 log-sum-exp enter exp() as ~1e-6 absolute errors); a key's (or distance's) sequential f32
// sum over <= |R| rows (<= 203 here), then the block's <= b / 64 terms a thread and a 6-level
// tree, add <= (203 + 16) * 6e-8 ~ 1.3e-5 relative in the worst case, ~1e-6 typically. So
// |error| <= 2e-5 * (the score's mass) <= 2e-5 |R|; we allow 2e-5 |R| absolute.
const SCORE_TOL = 2e-5;
// Stage-1 estimates: the kept scores' f32 running sum over |R|, then a WGSL f32 division (2.5
// ulp): 1e-6 relative on a value <= 1 against the host's f32 replica of the same sums.
const EST_TOL = 1e-6;
// Sparse output and lse: the kernel computes the same f32 sums as the dense flash kernel (online
// softmax, d-term dot products), whose relative Frobenius error against float64 is ~1e-6
// (attention-flash.test.ts); 2e-5 relative on O and 1e-5 absolute on lse (|lse| <= ~10 here,
// ~1e-6 f32 error) keep >10x margin while a single missing or extra (i, j) moves them by >1e-3.
const OUT_TOL = 2e-5;
const LSE_TOL = 1e-5;

/** log sum over the kept keys of exp(s_ij), float64. */
function maskedLse(q: ArrayLike<number>, k: ArrayLike<number>, S: number, d: number, keep: (i: number, j: number) => boolean): Float64Array {
  const out = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    const s = scoreRow(q, k, d, i, 1 / Math.sqrt(d));
    let m = -Infinity;
    for (let j = 0; j <= i; j++) if (keep(i, j)) m = Math.max(m, s[j]);
    let z = 0;
    for (let j = 0; j <= i; j++) if (keep(i, j)) z += Math.exp(s[j] - m);
    out[i] = m + Math.log(z);
  }
  return out;
}

interface Case { heads: number; kvHeads: number; S: number; d: number; b: number; rowRatio: number; pattern: 'random' | 'structured'; alpha: 'random' | 1; keyTile?: number }
const cases: Case[] = [
  { heads: 3, kvHeads: 1, S: 131, d: 24, b: 16, rowRatio: 0.3, pattern: 'random', alpha: 'random' },
  { heads: 2, kvHeads: 2, S: 77, d: 40, b: 7, rowRatio: 0.2, pattern: 'structured', alpha: 'random', keyTile: 5 },
  { heads: 3, kvHeads: 3, S: 45, d: 8, b: 64, rowRatio: 0.05, pattern: 'random', alpha: 'random' }, // S < b: one block, one band
  { heads: 2, kvHeads: 1, S: 150, d: 64, b: 1, rowRatio: 0.1, pattern: 'structured', alpha: 'random' }, // b = 1: 150 blocks and bands
  { heads: 2, kvHeads: 1, S: 70, d: 16, b: 9, rowRatio: 1, pattern: 'random', alpha: 1 }, // full mask: sparse = dense
  // The strip kernels step over runs of <= 32 consecutive sampled rows and 64 keys / distances:
  { heads: 4, kvHeads: 2, S: 203, d: 128, b: 64, rowRatio: 1, pattern: 'random', alpha: 'random' }, // segments (~51 rows) shorter than b: one run of all rows; D = 128 in 8 chunks
  { heads: 2, kvHeads: 1, S: 517, d: 40, b: 48, rowRatio: 0.1, pattern: 'structured', alpha: 'random' }, // runs of 48: a full and a partial step; D = 40 not a chunk multiple
  { heads: 2, kvHeads: 2, S: 203, d: 8, b: 600, rowRatio: 0.5, pattern: 'random', alpha: 'random' }, // b > S: every row sampled, one block, one band
  { heads: 2, kvHeads: 1, S: 203, d: 8, b: 1, rowRatio: 0.3, pattern: 'structured', alpha: 'random' }, // b = 1: 61 single-row runs
];

for (const c of cases) {
  const seed = freshSeed();
  test(`blocks stages 1+2 and block-sparse attention match the reference: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, b ${c.b}, rowRatio ${c.rowRatio}, ${c.pattern}, alpha ${c.alpha}${c.keyTile ? `, key tile ${c.keyTile}` : ''} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const { heads, kvHeads, S, d, b } = c;
    const shape = { heads, kvHeads, S, d };
    const x = attentionInputs(seed, heads, kvHeads, S, d, c.pattern);
    const r = rng(seed ^ 0x2545f491);
    const rows = blocksSampledRows(S, b, c.rowRatio);
    const alphas = Array.from({ length: heads }, () => (c.alpha === 1 ? { alphaColumn: 1, alphaSlash: 1 } : { alphaColumn: 0.5 + 0.49 * r(), alphaSlash: 0.5 + 0.49 * r() }));
    const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
    const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
    const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v);
    const sr = uploadSampledRows(ctx, S, Array.from({ length: heads }, () => rows));
    const st = createBlocksStages(ctx, shape, b, alphas, Array(heads).fill(rows.length), sr.nMax);
    const sp = createBlocksSparseOutputs(ctx, shape);
    const bk = c.keyTile ?? blocksKeyTile(ctx.device, d);
    await checked(ctx.device, 'blocks test dispatches', () => run(ctx, [
      ...blocksStageDispatches(ctx, shape, q, k, sr, b, st),
      blocksSparseDispatch(ctx, shape, q, k, v, b, st.kept.buffer, sp, undefined, c.keyTile),
    ]));
    const nb = st.nb;
    const strips = await readTensor(ctx, st.strips);
    const kept = await readU32(ctx, st.kept.buffer, 2 * heads * nb);
    const stats = await readU32(ctx, st.stats.buffer, 2 * heads * 2);
    const out = await readTensor(ctx, sp.out);
    const lse = await readTensor(ctx, sp.lse);
    const tiles = await readU32(ctx, sp.tiles.buffer, heads * Math.ceil(S / BLOCKS_BQ));
    const R = rows.length;

    for (let h = 0; h < heads; h++) {
      const g = kvHeadOf(h, heads, kvHeads);
      const [qh, kh, vh] = [headView(x.q, h, S, d), headView(x.k, g, S, d), headView(x.v, g, S, d)];
      const where = `seed ${seed} head ${h}`;
      // Stage 1 against float64.
      const ref = stripScores(qh, kh, S, d, b, rows);
      const gpuC = strips.subarray(h * nb, (h + 1) * nb), gpuD = strips.subarray((heads + h) * nb, (heads + h + 1) * nb);
      const eC = maxAbsError(gpuC, ref.column), eD = maxAbsError(gpuD, ref.slash);
      assert.ok(eC <= SCORE_TOL * R, `${where}: column-block scores max abs error ${eC} > ${SCORE_TOL} * |R| (${R})`);
      assert.ok(eD <= SCORE_TOL * R, `${where}: slash-band scores max abs error ${eD} > ${SCORE_TOL} * |R|`);

      // Stage 2: exactly the f32 replica of the reference rule on the GPU's scores; and, where the
      // f32 scores order and threshold like the float64 ones (checked here: no boundary within
      // tolerance), exactly the float64 reference's blocks and bands.
      const sets: number[][] = [];
      for (const [kind, scores, refScores, alpha, pinned] of [[0, gpuC, ref.column, alphas[h].alphaColumn, null], [1, gpuD, ref.slash, alphas[h].alphaSlash, 0]] as const) {
        const want = selectStripsF32(scores, alpha, R, pinned);
        const got = [...Array(nb).keys()].filter((t) => kept[(kind * heads + h) * nb + t] === 1);
        for (let t = 0; t < nb; t++) assert.ok(kept[(kind * heads + h) * nb + t] <= 1, `${where} kind ${kind}: kept flag ${t} was not written`);
        assert.deepEqual(got, want.kept, `${where} kind ${kind}: kept set differs from the f32 replica`);
        assert.equal(stats[(kind * heads + h) * 2], want.count, `${where} kind ${kind}: count`);
        const est = new Float32Array(new Uint32Array([stats[(kind * heads + h) * 2 + 1]]).buffer)[0];
        assert.ok(Math.abs(est - want.estimate) <= EST_TOL, `${where} kind ${kind}: estimate ${est} vs ${want.estimate}`);
        assert.ok(est >= alpha - EST_TOL - SCORE_TOL, `${where} kind ${kind}: estimate ${est} < alpha ${alpha}`);
        const f64 = selectStrips(refScores, alpha, R, pinned);
        const near = f64.order.some((t, u) => u > 0 && Math.abs(refScores[f64.order[u - 1]] - refScores[t]) <= 2 * SCORE_TOL * R);
        let run = 0, total = 0;
        for (const t of f64.order) total += refScores[t];
        const nearThreshold = f64.order.some((t) => Math.abs((run += refScores[t]) - alpha * total) <= 2 * SCORE_TOL * R);
        if (!near && !nearThreshold) assert.deepEqual(got, f64.kept, `${where} kind ${kind}: clear of ties and threshold, yet the GPU kept set differs from float64`);
        sets.push(got);
      }
      assert.ok(sets[1].includes(0), `${where}: band 0 kept`);

      // Block-sparse attention over the GPU's kept sets, against float64 on the same sets.
      const keep = blocksPredicate(blocksMask(S, b, sets[0], sets[1]));
      const refOut = sparseAttentionWhere(qh, kh, vh, S, d, keep);
      const e = relError(out.subarray(h * S * d, (h + 1) * S * d), refOut);
      assert.ok(e < OUT_TOL, `${where}: sparse output relative error ${e} >= ${OUT_TOL}`);
      const el = maxAbsError(lse.subarray(h * S, (h + 1) * S), maskedLse(qh, kh, S, d, keep));
      assert.ok(el < LSE_TOL, `${where}: sparse lse max abs error ${el} >= ${LSE_TOL}`);
      if (c.alpha === 1 && c.rowRatio === 1) {
        const de = relError(out.subarray(h * S * d, (h + 1) * S * d), denseAttention(qh, kh, vh, S, d).out);
        assert.ok(de < OUT_TOL, `${where}: full mask must give dense attention (rel error ${de})`);
      }
      const nt = Math.ceil(S / BLOCKS_BQ);
      assert.deepEqual([...tiles.subarray(h * nt, (h + 1) * nt)], tilesWithMask(S, bk, keep), `${where}: key tiles visited must be exactly those holding entries of M`);
    }
    destroyAll(q, k, v, sr.rows, sr.nRows);
    destroyBlocksStages(st);
    destroyBlocksSparseOutputs(sp);
  });
}

test('blocks stage 2 on dyadic scores (exact in f32 and float64) picks exactly selectStrips\'s blocks and bands, ties by smaller index', async () => {
  const ctx = await gpu();
  const seed = freshSeed();
  const r = rng(seed);
  for (const [heads, nb, levels, zeros] of [[3, 37, 4, 0.2], [2, 300, 2, 0.5], [1, 1, 3, 0], [2, 9, 1, 0.9]]) {
    const shape = { heads, kvHeads: 1, S: nb, d: 4 }; // b = 1: nb = S
    const alphas = Array.from({ length: heads }, (_, h) => (h === 0 ? { alphaColumn: 1, alphaSlash: 1 } : { alphaColumn: (1 + Math.floor(r() * 63)) / 64, alphaSlash: (1 + Math.floor(r() * 63)) / 64 }));
    const scores = new Float32Array(2 * heads * nb);
    for (let t = 0; t < scores.length; t++) scores[t] = r() < zeros ? 0 : (1 + Math.floor(r() * levels)) / 8;
    const st = createBlocksStages(ctx, shape, 1, alphas, Array(heads).fill(5), 1);
    ctx.device.queue.writeBuffer(st.strips.buffer, 0, scores);
    const q = uploadTensor(ctx, 'q', [heads, nb, 4], new Float32Array(heads * nb * 4));
    const sr = uploadSampledRows(ctx, nb, Array.from({ length: heads }, () => [nb - 1]));
    const k = uploadTensor(ctx, 'k', [1, nb, 4], new Float32Array(nb * 4));
    const select = blocksStageDispatches(ctx, shape, q, k, sr, 1, st).at(-1)!; // stage 2 alone (the last), on the scores written above
    await checked(ctx.device, 'blocks select dyadic', () => run(ctx, [select]));
    const kept = await readU32(ctx, st.kept.buffer, 2 * heads * nb);
    const stats = await readU32(ctx, st.stats.buffer, 2 * heads * 2);
    for (let h = 0; h < heads; h++) {
      for (const kind of [0, 1]) {
        const sc = Float64Array.from(scores.subarray((kind * heads + h) * nb, (kind * heads + h + 1) * nb));
        const alpha = kind === 0 ? alphas[h].alphaColumn : alphas[h].alphaSlash;
        const want = selectStrips(sc, alpha, 5, kind === 1 ? 0 : null);
        const got = [...Array(nb).keys()].filter((t) => kept[(kind * heads + h) * nb + t] === 1);
        assert.deepEqual(got, want.kept, `seed ${seed} nb ${nb} head ${h} kind ${kind} alpha ${alpha}`);
        assert.equal(stats[(kind * heads + h) * 2], want.kept.length);
        const est = new Float32Array(new Uint32Array([stats[(kind * heads + h) * 2 + 1]]).buffer)[0];
        assert.ok(Math.abs(est - want.stage1Estimate) <= EST_TOL * Math.max(1, want.stage1Estimate), `estimate ${est} vs ${want.stage1Estimate}`);
      }
    }
    destroyAll(q, k, sr.rows, sr.nRows);
    destroyBlocksStages(st);
  }
});

test('block-sparse attention on host-given blocks and bands: random sets, band 0 only, every block; forced small key tiles', async () => {
  const ctx = await gpu();
  const seed = freshSeed();
  const r = rng(seed);
  const heads = 3, kvHeads = 1, S = 101, d = 12;
  const x = attentionInputs(seed, heads, kvHeads, S, d);
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
  const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v);
  const shape = { heads, kvHeads, S, d };
  for (const [b, bk] of [[6, 7], [13, 32], [1, 3], [200, 11]]) {
    const nb = Math.ceil(S / b);
    const cols = [[...Array(nb).keys()].filter(() => r() < 0.3), [], [...Array(nb).keys()]];
    const bands = [[0, ...[...Array(nb).keys()].filter((o) => o > 0 && r() < 0.3)], [0], [0]];
    const kept = uploadBlocksKept(ctx, S, b, cols, bands);
    const sp = createBlocksSparseOutputs(ctx, shape);
    await checked(ctx.device, 'blocks sparse host sets', () => run(ctx, [blocksSparseDispatch(ctx, shape, q, k, v, b, kept, sp, undefined, bk)]));
    const out = await readTensor(ctx, sp.out);
    const tiles = await readU32(ctx, sp.tiles.buffer, heads * Math.ceil(S / BLOCKS_BQ));
    for (let h = 0; h < heads; h++) {
      const keep = blocksPredicate(blocksMask(S, b, cols[h], bands[h]));
      const ref = sparseAttentionWhere(headView(x.q, h, S, d), x.k, x.v, S, d, keep);
      const e = relError(out.subarray(h * S * d, (h + 1) * S * d), ref);
      assert.ok(e < OUT_TOL, `seed ${seed} b ${b} bk ${bk} head ${h}: rel error ${e}`);
      const nt = Math.ceil(S / BLOCKS_BQ);
      assert.deepEqual([...tiles.subarray(h * nt, (h + 1) * nt)], tilesWithMask(S, bk, keep), `seed ${seed} b ${b} bk ${bk} head ${h}: tiles visited`);
    }
    destroyAll(kept);
    destroyBlocksSparseOutputs(sp);
  }
  assert.throws(() => uploadBlocksKept(ctx, S, 10, [[0]], [[1]]), /does not keep slash band 0/);
  assert.throws(() => uploadBlocksKept(ctx, S, 10, [[11]], [[0]]), /column block 11 is outside 0\.\.10/);
  destroyAll(q, k, v);
});

test('block-sparse attention skips a tile only when it holds no entry of M: single slash bands at the edges of tiles', async () => {
  // One kept band o > 0 (beside band 0) and no column block: a tile is then kept only through
  // band o, and choosing o as the band of a tile's smallest distance i0 - j1 (or largest, i1 - j0)
  // makes that tile hold M at a single corner: an off-by-one in the tile test skips it.
  const ctx = await gpu();
  const seed = freshSeed();
  const r = rng(seed);
  const heads = 3, kvHeads = 1, S = 150, d = 4;
  const x = attentionInputs(seed, heads, kvHeads, S, d);
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
  const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v);
  const shape = { heads, kvHeads, S, d };
  for (const [b, bk] of [[1, 7], [1, 32], [3, 5], [4, 32]]) {
    const nb = Math.ceil(S / b);
    const bands: number[][] = [];
    for (let h = 0; h < heads; h++) {
      const i0 = BLOCKS_BQ * (1 + Math.floor(r() * 2)); // 64 or 128
      const i1 = Math.min(i0 + BLOCKS_BQ, S) - 1;
      const tilesBelow = Math.floor((i0 - 1) / bk); // key tiles ending before row i0
      const j0 = bk * Math.floor(r() * tilesBelow);
      const j1 = j0 + bk - 1;
      const dist = h === 0 ? i0 - j1 : h === 1 ? i1 - j0 : 1 + Math.floor(r() * (S - 1));
      const o = Math.floor(dist / b);
      bands.push(o > 0 && o < nb ? [0, o] : [0]);
    }
    const cols: number[][] = Array.from({ length: heads }, () => []);
    const kept = uploadBlocksKept(ctx, S, b, cols, bands);
    const sp = createBlocksSparseOutputs(ctx, shape);
    await checked(ctx.device, 'blocks sparse edge bands', () => run(ctx, [blocksSparseDispatch(ctx, shape, q, k, v, b, kept, sp, undefined, bk)]));
    const out = await readTensor(ctx, sp.out);
    const tiles = await readU32(ctx, sp.tiles.buffer, heads * Math.ceil(S / BLOCKS_BQ));
    for (let h = 0; h < heads; h++) {
      const keep = blocksPredicate(blocksMask(S, b, cols[h], bands[h]));
      const where = `seed ${seed} b ${b} bk ${bk} head ${h} bands ${bands[h]}`;
      const nt = Math.ceil(S / BLOCKS_BQ);
      assert.deepEqual([...tiles.subarray(h * nt, (h + 1) * nt)], tilesWithMask(S, bk, keep), `${where}: tiles visited`);
      const e = relError(out.subarray(h * S * d, (h + 1) * S * d), sparseAttentionWhere(headView(x.q, h, S, d), x.k, x.v, S, d, keep));
      assert.ok(e < OUT_TOL, `${where}: rel error ${e}`);
    }
    destroyAll(kept);
    destroyBlocksSparseOutputs(sp);
  }
  destroyAll(q, k, v);
});
