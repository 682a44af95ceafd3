// The float64 reference of the `blocks` variant (src/sampleattention/spec/blocks/) against the spec
// (docs/SAMPLEATTENTION.md, "Variant `blocks`"): its reference outcomes, tiny hand-computed cases,
// and properties over awkward random sizes (S not a multiple of b, S < b, one segment, many
// segments) with fast-check, seeded from freshSeed() (replay with SEED=...). The mask is checked
// against a brute-force O(S^2) builder written from the spec's formula, not from mask.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { freshSeed, randn, rng } from '../helpers/gpu';
import { attentionRow, denseAttention, selectKeys } from '../../src/sampleattention/spec/reference';
import { rowRecallWhere, sparseAttentionWhere } from '../../src/sampleattention/spec/attention';
import { blocksSampledRows, segmentCount, validateBlocksParams, DEFAULT_BLOCKS_PARAMS, type BlocksParams } from '../../src/sampleattention/spec/blocks/params';
import { selectStrips, stripScores } from '../../src/sampleattention/spec/blocks/selection';
import { blocksDensity, blocksMask, blocksMaskCount, blocksPredicate } from '../../src/sampleattention/spec/blocks/mask';
import { selectAllBlocks, selectHeadBlocks, type BlocksHeadSelection } from '../../src/sampleattention/spec/blocks/reference';

// Float64 sums of at most a few hundred softmax terms of size <= 1 (and of |R| <= 90 rows):
// rounding error is below ~1e-13, so 1e-11 is a tolerance no real bug (a missing or doubled
// entry of the mask, >= ~1e-4 on these sizes) can hide in.
const TOL = 1e-11;

function randomHead(seed: number, S: number, d: number, std = 1, heads = 1) {
  const r = rng(seed);
  return { q: randn(r, heads * S * d, std), k: randn(r, heads * S * d, std), v: randn(r, heads * S * d) };
}

/** M_ij straight from the spec's step 6. */
function specMask(S: number, b: number, sel: { columnBlocks: number[]; slashBands: number[] }): (i: number, j: number) => boolean {
  const C = new Set(sel.columnBlocks), D = new Set(sel.slashBands);
  return (i, j) => j >= 0 && j <= i && i < S && (C.has(Math.floor(j / b)) || D.has(Math.floor((i - j) / b)));
}

function bruteCount(S: number, m: (i: number, j: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) if (m(i, j)) c++;
  return c;
}

const causal = (S: number) => (S * (S + 1)) / 2;

// ---- reference outcomes (spec, "Variant `blocks`") ----

test('outcome: alphaColumn = alphaSlash = 1 with rowRatio = 1 gives the full causal mask, recall 1, sparse = dense', () => {
  const seed = freshSeed();
  for (const [S, d, b] of [[1, 3, 1], [1, 3, 128], [37, 24, 16], [64, 5, 64], [100, 7, 32], [45, 4, 1], [20, 6, 7]]) {
    const { q, k, v } = randomHead(seed + S * 131 + b, S, d);
    const sel = selectHeadBlocks(q, k, S, d, { blockSize: b, alphaColumn: 1, alphaSlash: 1, rowRatio: 1 }, { v });
    const where = `seed ${seed} S=${S} b=${b}`;
    assert.equal(sel.sampledRows.length, S, `${where}: rowRatio = 1 samples every row`);
    assert.equal(bruteCount(S, specMask(S, b, sel)), causal(S), `${where}: mask not full`);
    assert.equal(sel.density, 1, where);
    assert.ok(Math.abs(sel.recallMin - 1) < TOL && Math.abs(sel.recallMean - 1) < TOL, `${where}: recall ${sel.recallMin}`);
    assert.ok((sel.outputError ?? NaN) < TOL, `${where}: output error ${sel.outputError}`);
  }
});

test('outcome: alphaColumn = alphaSlash = 1 keeps exactly the blocks and bands holding sampled mass (any rowRatio)', () => {
  const seed = freshSeed();
  for (const [S, b, rowRatio] of [[50, 8, 0.05], [77, 16, 0.3], [33, 5, 0.2], [9, 32, 0.01]]) {
    const { q, k } = randomHead(seed + S, S, 6, 3);
    const sel = selectHeadBlocks(q, k, S, 6, { blockSize: b, alphaColumn: 1, alphaSlash: 1, rowRatio });
    const sc = stripScores(q, k, S, 6, b, sel.sampledRows);
    const positive = (xs: Float64Array) => [...xs.keys()].filter((t) => xs[t] > 0);
    assert.deepEqual(sel.columnBlocks, positive(sc.column), `seed ${seed} S=${S} b=${b}`);
    assert.deepEqual(sel.slashBands, [...new Set([0, ...positive(sc.slash)])].sort((a, c) => a - c), `seed ${seed} S=${S} b=${b}`);
  }
});

test('outcome: b = 1 with alphaSlash -> 0 keeps the column blocks and the diagonal only', () => {
  const seed = freshSeed();
  for (const [S, rowRatio, alphaColumn] of [[53, 0.05, 0.5], [41, 0.3, 0.9], [17, 1, 0.2], [1, 1, 0.95]]) {
    const d = 9;
    const { q, k } = randomHead(seed + S, S, d, 2);
    const sel = selectHeadBlocks(q, k, S, d, { blockSize: 1, alphaColumn, alphaSlash: 1e-12, rowRatio });
    assert.deepEqual(sel.slashBands, [0], `seed ${seed} S=${S}`);
    const cols = new Set(sel.columnBlocks);
    const m = specMask(S, 1, sel);
    for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) assert.equal(m(i, j), j === i || cols.has(j), `seed ${seed} M[${i},${j}]`);
    let want = S;
    for (const j of cols) want += S - j - 1;
    assert.equal(sel.density, want / causal(S), `seed ${seed} S=${S}`);
  }
});

test('outcome: the stage-1 estimates reach their alphas and are exact on the sampled rows; scores sum to |R|; band 0 is kept', () => {
  const seed = freshSeed();
  const S = 131, d = 13;
  const { q, k } = randomHead(seed, S, d, 2);
  for (const b of [1, 16, 30, 128, 200]) {
    for (const [ac, as] of [[0.1, 0.1], [0.5, 0.9], [0.9, 0.5], [0.95, 0.95], [0.999, 1], [1, 0.3]]) {
      const where = `seed ${seed} b=${b} alphas ${ac}/${as}`;
      const sel = selectHeadBlocks(q, k, S, d, { blockSize: b, alphaColumn: ac, alphaSlash: as, rowRatio: 0.2 });
      const R = sel.sampledRows;
      assert.ok(sel.stage1ColumnEstimate >= ac * (1 - TOL), `${where}: column estimate ${sel.stage1ColumnEstimate}`);
      assert.ok(sel.stage1SlashEstimate >= as * (1 - TOL), `${where}: slash estimate ${sel.stage1SlashEstimate}`);
      assert.ok(sel.slashBands.includes(0), where);
      const sc = stripScores(q, k, S, d, b, R);
      const sum = (xs: Float64Array) => xs.reduce((a, x) => a + x, 0);
      assert.ok(Math.abs(sum(sc.column) - R.length) < TOL * R.length, `${where}: sum C = ${sum(sc.column)}, |R| = ${R.length}`);
      assert.ok(Math.abs(sum(sc.slash) - R.length) < TOL * R.length, `${where}: sum D = ${sum(sc.slash)}`);
      // Exact on the sampled rows: the kept blocks (bands) hold estimate * |R| of the rows' full P.
      const C = new Set(sel.columnBlocks), D = new Set(sel.slashBands);
      let inC = 0, inD = 0;
      for (const i of R) {
        const p = attentionRow(q, k, S, d, i);
        for (let j = 0; j <= i; j++) {
          if (C.has(Math.floor(j / b))) inC += p[j];
          if (D.has(Math.floor((i - j) / b))) inD += p[j];
        }
      }
      assert.ok(Math.abs(inC / R.length - sel.stage1ColumnEstimate) < TOL, `${where}: column ${inC / R.length} vs ${sel.stage1ColumnEstimate}`);
      assert.ok(Math.abs(inD / R.length - sel.stage1SlashEstimate) < TOL, `${where}: slash ${inD / R.length} vs ${sel.stage1SlashEstimate}`);
    }
  }
});

// ---- by hand ----

test('segments and sampled tail rows by hand', () => {
  // n = ceil(0.5 * 10 / 3) = 2 segments, rows 0..4 and 5..9; the last 3 of each.
  assert.equal(segmentCount(10, 3, 0.5), 2);
  assert.deepEqual(blocksSampledRows(10, 3, 0.5), [2, 3, 4, 7, 8, 9]);
  // S < b: one segment, every row.
  assert.deepEqual(blocksSampledRows(5, 16, 0.05), [0, 1, 2, 3, 4]);
  // A segment shorter than b is sampled whole: n = ceil(1 * 10 / 4) = 3 segments of 3, 3, 4 rows.
  assert.deepEqual(blocksSampledRows(10, 4, 1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Near-integer product: 0.25 * 512 / 128 = 1 segment (not 2), the last 128 rows.
  assert.equal(segmentCount(512, 128, 0.25), 1);
  assert.deepEqual(blocksSampledRows(512, 128, 0.25), Array.from({ length: 128 }, (_, t) => 384 + t));
  // b = 1, rowRatio 0.3 of S = 10: n = 3 segments (rows 0-2, 3-5, 6-9), their last rows.
  assert.deepEqual(blocksSampledRows(10, 1, 0.3), [2, 5, 9]);
  // 0.07 * 100 is 7.000000000000001 in float64: 7 segments, not 8.
  assert.equal(segmentCount(100, 1, 0.07), 7);
});

test('strip scores by hand: q = 0 gives uniform rows P_ij = 1/(i+1) (S = 4, b = 2, every row sampled)', () => {
  const S = 4, d = 1;
  const q = new Float64Array(S), k = Float64Array.of(1, -2, 3, 0.5);
  const { column, slash } = stripScores(q, k, S, d, 2, [0, 1, 2, 3]);
  // C_0: rows 0..3 on keys 0, 1 -> 1 + 1 + 2/3 + 1/2; C_1: rows 2, 3 on keys 2, 3 -> 1/3 + 1/2.
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-15;
  assert.ok(close(column[0], 1 + 1 + 2 / 3 + 1 / 2) && close(column[1], 1 / 3 + 1 / 2), `C = ${column}`);
  // D_0: distances 0, 1 -> 1 + 1 + 2/3 + 1/2; D_1: distances 2, 3 -> 1/3 + 2/4.
  assert.ok(close(slash[0], 1 + 1 + 2 / 3 + 1 / 2) && close(slash[1], 1 / 3 + 1 / 2), `D = ${slash}`);
});

test('mask and density by hand (S = 5, b = 2)', () => {
  // I_C = {0} (keys 0, 1 on every row), I_S = {0} (distances 0, 1): rows keep 1, 2, 3, 4, 4 keys.
  const m = blocksMask(5, 2, [0], [0]);
  assert.equal(blocksMaskCount(m), 14);
  assert.equal(blocksDensity(m), 14 / 15);
  const keep = blocksPredicate(m);
  const row4 = [0, 1, 2, 3, 4].filter((j) => keep(4, j));
  assert.deepEqual(row4, [0, 1, 3, 4]);
  assert.equal(keep(1, 2), false, 'never above the diagonal');
  // Only band 0: the diagonal and one key before it: 1 + 2 + 2 + 2 + 2.
  assert.equal(blocksMaskCount(blocksMask(5, 2, [], [0])), 9);
  // Every block: the full causal mask.
  assert.equal(blocksDensity(blocksMask(5, 2, [0, 1, 2], [0])), 1);
  assert.throws(() => blocksMask(5, 2, [3], [0]), /column block 3 is outside 0\.\.2/);
});

test('strip selection by hand: thresholds, ties by smaller index, band 0 first, alpha = 1', () => {
  const s = Float64Array.of(1, 3, 3, 0, 2); // total 9
  // Unpinned: order 1, 2, 4, 0, 3; running 3, 6, 8, 9.
  assert.deepEqual(selectStrips(s, 0.3, 9).kept, [1]); // 3 >= 2.7
  assert.deepEqual(selectStrips(s, 0.5, 9).kept, [1, 2]); // 6 >= 4.5
  assert.deepEqual(selectStrips(s, 0.7, 9).kept, [1, 2, 4]); // 8 >= 6.3
  assert.deepEqual(selectStrips(s, 1, 9).kept, [0, 1, 2, 4], 'alpha = 1 keeps the positive scores only');
  assert.deepEqual(selectStrips(s, 0.3, 9).order, [1, 2, 4, 0, 3]);
  // Pinned 0: order 0, 1, 2, 4, 3; running 1, 4, 7, 9.
  assert.deepEqual(selectStrips(s, 1e-9, 9, 0).kept, [0]);
  assert.deepEqual(selectStrips(s, 0.4, 9, 0).kept, [0, 1]); // 4 >= 3.6
  assert.deepEqual(selectStrips(s, 0.7, 9, 0).kept, [0, 1, 2]); // 7 >= 6.3
  assert.equal(selectStrips(s, 0.7, 9, 0).stage1Estimate, 7 / 9);
  // A pinned index with score 0 is still kept, also at alpha = 1.
  assert.deepEqual(selectStrips(s, 1, 9, 3).kept, [0, 1, 2, 3, 4]);
  assert.deepEqual(selectStrips(s, 0.1, 9, 3).kept, [1, 3]);
  assert.throws(() => selectStrips(Float64Array.of(1, NaN), 0.5, 1), /strip score 1 = NaN/);
  assert.throws(() => selectStrips(s, 0, 9), /alpha: 0 is outside \(0, 1\]/);
});

test('validateBlocksParams names the bad field and its range', () => {
  validateBlocksParams(DEFAULT_BLOCKS_PARAMS);
  assert.deepEqual(DEFAULT_BLOCKS_PARAMS, { blockSize: 128, alphaColumn: 0.95, alphaSlash: 0.95, rowRatio: 0.05 });
  const bad: [Partial<BlocksParams>, RegExp][] = [
    [{ blockSize: 0 }, /blockSize: 0 is not an integer in \[1, 65536\]/],
    [{ blockSize: 2.5 }, /blockSize: 2\.5 is not an integer/],
    [{ blockSize: 65537 }, /blockSize: 65537 is not an integer in \[1, 65536\]/],
    [{ alphaColumn: 0 }, /alphaColumn: 0 is outside \(0, 1\]/],
    [{ alphaColumn: 1.5 }, /alphaColumn: 1\.5 is outside \(0, 1\]/],
    [{ alphaSlash: -1 }, /alphaSlash: -1 is outside \(0, 1\]/],
    [{ alphaSlash: NaN }, /alphaSlash: null is not a finite number/],
    [{ rowRatio: 2 }, /rowRatio: 2 is outside \(0, 1\]/],
    [{ rowRatio: undefined }, /rowRatio: undefined is not a finite number/],
  ];
  for (const [patch, re] of bad) assert.throws(() => validateBlocksParams({ ...DEFAULT_BLOCKS_PARAMS, ...patch } as BlocksParams), re, JSON.stringify(patch));
  const { q, k } = randomHead(1, 4, 2);
  assert.throws(() => selectHeadBlocks(q, k, 4, 2, { ...DEFAULT_BLOCKS_PARAMS, alphaSlash: 0 }), /SampleAttention blocks parameter alphaSlash/);
});

// ---- properties over random sizes and parameters ----

// Block sizes: tiny (many blocks and bands), odd (S rarely a multiple), and the spec's sizes
// (often S < b: one block, one segment).
const blockArb = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10, max: 100 }), fc.constantFrom(16, 32, 64, 128));
const alphaArb = fc.oneof(fc.double({ min: 1e-6, max: 1, noNaN: true }), fc.constant(1), fc.constant(0.95));
const paramsArb = fc.record({
  blockSize: blockArb,
  alphaColumn: alphaArb,
  alphaSlash: alphaArb,
  rowRatio: fc.oneof(fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.constant(1), fc.constant(0.05)),
});
const sizeArb = fc.record({
  S: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 21, max: 90 })),
  d: fc.integer({ min: 1, max: 8 }),
  // std 3 gives peaked rows (few blocks hold the mass), std 1 flat ones.
  std: fc.constantFrom(1, 3),
  dataSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

function checkSelection(q: Float32Array, k: Float32Array, v: Float32Array, S: number, d: number, p: BlocksParams, sel: BlocksHeadSelection): void {
  const b = p.blockSize, nb = Math.ceil(S / b);
  const R = sel.sampledRows;

  // Sampled rows: the last min(b, length) rows of each segment; ascending, unique, ending at S - 1.
  const n = segmentCount(S, b, p.rowRatio);
  let want = 0;
  for (let c = 0; c < n; c++) want += Math.min(b, Math.floor(((c + 1) * S) / n) - Math.floor((c * S) / n));
  assert.equal(R.length, want, 'sampled row count');
  assert.equal(R[R.length - 1], S - 1);
  for (let t = 1; t < R.length; t++) assert.ok(R[t] > R[t - 1], 'rows ascending and unique');
  if (p.rowRatio === 1) assert.equal(R.length, S, 'rowRatio = 1 samples every row');

  // Kept indices ascending, unique, in range; band 0 kept; columns as the tokens rule would pick.
  for (const xs of [sel.columnBlocks, sel.slashBands]) {
    assert.ok(xs.length >= 1);
    for (let t = 0; t < xs.length; t++) {
      assert.ok(Number.isInteger(xs[t]) && xs[t] >= 0 && xs[t] < nb, `index ${xs[t]} outside 0..${nb - 1}`);
      if (t > 0) assert.ok(xs[t] > xs[t - 1], 'ascending and unique');
    }
  }
  assert.equal(sel.slashBands[0], 0, 'band 0 always kept');
  const sc = stripScores(q, k, S, d, b, R);
  assert.deepEqual(sel.columnBlocks, selectKeys(sc.column, p.alphaColumn, R.length).keys, 'column blocks = selectKeys on C');

  // Estimates reach alpha; minimality: without the last index taken, the sum is below target.
  for (const [scores, alpha, kept, est, pinned] of [
    [sc.column, p.alphaColumn, sel.columnBlocks, sel.stage1ColumnEstimate, null],
    [sc.slash, p.alphaSlash, sel.slashBands, sel.stage1SlashEstimate, 0],
  ] as const) {
    assert.ok(est >= alpha * (1 - TOL), `estimate ${est} < alpha ${alpha}`);
    const { order } = selectStrips(scores, alpha, R.length, pinned);
    let total = 0;
    for (const t of order) total += scores[t];
    let before = 0;
    for (let t = 0; t < kept.length - 1; t++) before += scores[order[t]];
    if (alpha < 1 && kept.length > 1) assert.ok(before < alpha * total, `not minimal: ${before} >= ${alpha} * ${total}`);
    if (alpha === 1) for (let t = 0; t < scores.length; t++) assert.equal(kept.includes(t), scores[t] > 0 || t === pinned, `alpha = 1, index ${t}`);
  }

  // The mask: only causal entries, the diagonal always, density = the brute-force count.
  const m = specMask(S, b, sel);
  const keep = blocksPredicate(blocksMask(S, b, sel.columnBlocks, sel.slashBands));
  for (let i = 0; i < S; i++) {
    assert.ok(m(i, i), `diagonal ${i}`);
    for (let j = 0; j <= i; j++) assert.equal(keep(i, j), m(i, j), `predicate M[${i},${j}]`);
  }
  assert.equal(sel.density, bruteCount(S, m) / causal(S), 'density vs brute force');
  assert.ok(sel.density > 0 && sel.density <= 1);

  // Recall adds exactly the entries of M (ascending j, so bit-equal), in [0, 1].
  const rec = rowRecallWhere(q, k, S, d, keep);
  for (let i = 0; i < S; i++) {
    const pr = attentionRow(q, k, S, d, i);
    let r = 0;
    for (let j = 0; j <= i; j++) if (m(i, j)) r += pr[j];
    assert.equal(rec[i], r, `row ${i}: recall disagrees with M`);
    assert.ok(rec[i] >= 0 && rec[i] <= 1 + TOL);
  }
  assert.ok(sel.recallMin <= sel.recallP5 && sel.recallP5 <= sel.recallMean + 1 + TOL);
  // On the sampled rows the mask holds at least what each kind's estimate promised, at most both.
  let onR = 0;
  for (const i of R) onR += rec[i];
  onR /= R.length;
  const atLeast = Math.max(sel.stage1ColumnEstimate, sel.stage1SlashEstimate);
  assert.ok(onR >= atLeast - TOL, `sampled-row recall ${onR} < max estimate ${atLeast}`);
  assert.ok(onR <= sel.stage1ColumnEstimate + sel.stage1SlashEstimate + TOL, `sampled-row recall ${onR} > sum of estimates`);

  // Sparse output: O_i = sum_j M_ij P_ij v_j / sum_j M_ij P_ij, the same softmax renormalised.
  const sparse = sparseAttentionWhere(q, k, v, S, d, keep);
  for (let i = 0; i < S; i++) {
    const pr = attentionRow(q, k, S, d, i);
    let z = 0;
    const o = new Float64Array(d);
    for (let j = 0; j <= i; j++) if (m(i, j)) { z += pr[j]; for (let e = 0; e < d; e++) o[e] += pr[j] * v[j * d + e]; }
    for (let e = 0; e < d; e++) assert.ok(Math.abs(sparse[i * d + e] - o[e] / z) <= 1e-9 * (1 + Math.abs(o[e] / z)), `O[${i},${e}] ${sparse[i * d + e]} vs ${o[e] / z}`);
  }
  const dense = denseAttention(q, k, v, S, d).out;
  assert.ok(Number.isFinite(sel.outputError) && (sel.outputError as number) >= 0, `output error ${sel.outputError}`);
  if (sel.density === 1) {
    assert.ok((sel.outputError as number) < TOL);
    for (let t = 0; t < S * d; t++) assert.ok(Math.abs(sparse[t] - dense[t]) <= TOL * (1 + Math.abs(dense[t])));
  }
}

const seedProp = freshSeed();
test(`properties of one head's blocks selection over awkward sizes and random params (fast-check seed ${seedProp})`, () => {
  fc.assert(
    fc.property(sizeArb, paramsArb, ({ S, d, std, dataSeed }, p) => {
      const { q, k, v } = randomHead(dataSeed, S, d, std);
      checkSelection(q, k, v, S, d, p, selectHeadBlocks(q, k, S, d, p, { v }));
    }),
    { seed: seedProp, numRuns: 200 },
  );
});

const seedMono = freshSeed();
test(`a larger alphaColumn or alphaSlash never lowers any row's recall (fast-check seed ${seedMono})`, () => {
  fc.assert(
    fc.property(sizeArb, paramsArb, alphaArb, fc.boolean(), ({ S, d, std, dataSeed }, p, a2, column) => {
      const { q, k } = randomHead(dataSeed, S, d, std);
      const field = column ? 'alphaColumn' : 'alphaSlash';
      const lo = Math.min(p[field], a2), hi = Math.max(p[field], a2);
      const a = selectHeadBlocks(q, k, S, d, { ...p, [field]: lo });
      const b = selectHeadBlocks(q, k, S, d, { ...p, [field]: hi });
      const kind = column ? 'columnBlocks' : 'slashBands', other = column ? 'slashBands' : 'columnBlocks';
      assert.deepEqual(a[other], b[other], 'the other kind does not depend on this alpha');
      for (const x of a[kind]) assert.ok(b[kind].includes(x), `${kind}: ${x} kept at ${field} ${lo} but not at ${hi}`);
      const ra = rowRecallWhere(q, k, S, d, blocksPredicate(blocksMask(S, p.blockSize, a.columnBlocks, a.slashBands)));
      const rb = rowRecallWhere(q, k, S, d, blocksPredicate(blocksMask(S, p.blockSize, b.columnBlocks, b.slashBands)));
      for (let i = 0; i < S; i++) assert.ok(rb[i] >= ra[i], `row ${i}: recall ${rb[i]} at ${field} ${hi} < ${ra[i]} at ${lo}`);
      assert.ok(b.density >= a.density && b.recallMean >= a.recallMean && b.recallMin >= a.recallMin);
    }),
    { seed: seedMono, numRuns: 150 },
  );
});

const seedGqa = freshSeed();
test(`selectAllBlocks: query head h reads kv head floor(h / (heads / kvHeads)), per-head params (fast-check seed ${seedGqa})`, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }).chain((kvHeads) => fc.tuple(fc.constant(kvHeads), fc.integer({ min: 1, max: 3 }).map((g) => g * kvHeads))),
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(paramsArb, { minLength: 9, maxLength: 9 }), fc.boolean(),
      ([kvHeads, heads], S, d, dataSeed, ps, perHead) => {
        const r = rng(dataSeed);
        const q = randn(r, heads * S * d, 2), k = randn(r, kvHeads * S * d, 2), v = randn(r, kvHeads * S * d);
        const params = perHead ? ps.slice(0, heads) : ps[0];
        const seen: number[] = [];
        const all = selectAllBlocks(q, k, heads, kvHeads, S, d, params, { v, onHead: (s) => seen.push(s.head) });
        assert.deepEqual(seen, [...Array(heads).keys()]);
        for (let h = 0; h < heads; h++) {
          const g = Math.floor(h / (heads / kvHeads));
          const one = selectHeadBlocks(q.subarray(h * S * d, (h + 1) * S * d), k.subarray(g * S * d, (g + 1) * S * d), S, d, perHead ? ps[h] : ps[0], {
            head: h, v: v.subarray(g * S * d, (g + 1) * S * d),
          });
          assert.deepEqual(all[h], one, `head ${h}`);
        }
      },
    ),
    { seed: seedGqa, numRuns: 60 },
  );
  assert.throws(() => selectAllBlocks(new Float32Array(12), new Float32Array(8), 3, 2, 2, 2), /heads \(3\) is not a multiple of kvHeads \(2\)/);
  assert.throws(() => selectAllBlocks(new Float32Array(8), new Float32Array(4), 2, 1, 2, 2, [DEFAULT_BLOCKS_PARAMS]), /1 per-head parameter sets for 2 heads/);
});
