// The float64 SampleAttention reference (src/sampleattention/spec/reference.ts) against the spec
// (docs/SAMPLEATTENTION.md): its four reference outcomes, tiny hand-computed cases, and properties
// over random sizes and parameters (fast-check, seeded from freshSeed(); replay with SEED=...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { freshSeed, randn, rng } from '../helpers/gpu';
import {
  attentionRow, columnScores, DEFAULT_PARAMS, denseAttention, density, inMask, keySetOf, percentile,
  rowRecall, sampledRows, selectAll, selectHead, selectKeys, sparseAttention, validateParams, windowSize,
  type SampleParams,
} from '../../src/sampleattention/spec/reference';

// Float64 sums of at most ~80 softmax terms of size <= 1: rounding error is below 80 * 2^-53 ~ 1e-14,
// so 1e-12 is a tolerance that real bugs (a missing or doubled entry, ~1e-3 or more) cannot hide in.
const TOL = 1e-12;

function randomHead(seed: number, S: number, d: number, heads = 1) {
  const r = rng(seed);
  return { q: randn(r, heads * S * d), k: randn(r, heads * S * d), v: randn(r, heads * S * d) };
}

function bruteCount(S: number, w: number, keySet: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) if (inMask(i, j, w, keySet)) c++;
  return c;
}

const fullCausal = (S: number, w: number, keySet: Uint8Array) => bruteCount(S, w, keySet) === (S * (S + 1)) / 2;

// ---- reference outcomes (spec, last section) ----

test('outcome 1: rowRatio = 1, alpha = 1 gives the full causal mask and recall 1 on every row', () => {
  const seed = freshSeed();
  for (const [S, d] of [[1, 3], [37, 24], [64, 5]]) {
    const { q, k } = randomHead(seed + S, S, d);
    for (const windowRatio of [0, 0.08, 0.5, 1]) {
      const p: SampleParams = { alpha: 1, rowRatio: 1, windowRatio };
      const sel = selectHead(q, k, S, d, p);
      const keySet = keySetOf(sel.selectedKeys, S);
      assert.ok(fullCausal(S, sel.window, keySet), `seed ${seed} S=${S} windowRatio=${windowRatio}: mask not full`);
      assert.equal(sel.density, 1, `seed ${seed}`);
      const rec = rowRecall(q, k, S, d, sel.window, keySet);
      for (let i = 0; i < S; i++) assert.ok(Math.abs(rec[i] - 1) < TOL, `seed ${seed} S=${S} row ${i} recall ${rec[i]}`);
    }
  }
});

test('outcome 2: windowRatio = 1 gives the full causal mask whatever alpha and rowRatio', () => {
  const seed = freshSeed();
  const S = 41, d = 7;
  const { q, k } = randomHead(seed, S, d);
  for (const alpha of [1e-9, 0.3, 0.95, 1]) {
    for (const rowRatio of [0.01, 0.2, 1]) {
      const sel = selectHead(q, k, S, d, { alpha, rowRatio, windowRatio: 1 });
      assert.equal(sel.window, S);
      assert.ok(fullCausal(S, sel.window, keySetOf(sel.selectedKeys, S)), `seed ${seed} alpha=${alpha} rowRatio=${rowRatio}`);
      assert.equal(sel.density, 1);
      assert.ok(Math.abs(sel.recallMin - 1) < TOL, `seed ${seed}: recallMin ${sel.recallMin}`);
    }
  }
});

test('outcome 3: alpha -> 0 and windowRatio = 0 keep only the diagonal and the single top-scored key', () => {
  const seed = freshSeed();
  const S = 53, d = 9;
  const { q, k } = randomHead(seed, S, d);
  for (const rowRatio of [0.05, 0.3, 1]) {
    const sel = selectHead(q, k, S, d, { alpha: 1e-12, rowRatio, windowRatio: 0 });
    const c = columnScores(q, k, S, d, sampledRows(S, rowRatio));
    let top = 0;
    for (let j = 1; j < S; j++) if (c[j] > c[top]) top = j; // strict >: ties go to the smaller j
    assert.deepEqual(sel.selectedKeys, [top], `seed ${seed} rowRatio=${rowRatio}`);
    assert.equal(sel.window, 0);
    const keySet = keySetOf(sel.selectedKeys, S);
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const expected = j === i || (j === top && j <= i);
        assert.equal(inMask(i, j, sel.window, keySet), expected, `seed ${seed} M[${i},${j}]`);
      }
    }
    assert.equal(sel.density, (S + Math.max(0, S - top - 1)) / ((S * (S + 1)) / 2));
  }
});

test('outcome 4: on the sampled rows the stage-1 estimate is exact and >= alpha', () => {
  const seed = freshSeed();
  const S = 79, d = 13;
  const { q, k } = randomHead(seed, S, d);
  for (const alpha of [0.1, 0.5, 0.9, 0.95, 0.999, 1]) {
    for (const rowRatio of [0.02, 0.1, 0.5]) {
      const sel = selectHead(q, k, S, d, { alpha, rowRatio, windowRatio: 0.1 });
      const keySet = keySetOf(sel.selectedKeys, S);
      let kept = 0;
      for (const i of sel.sampledRows) {
        const p = attentionRow(q, k, S, d, i);
        for (let j = 0; j <= i; j++) if (keySet[j]) kept += p[j];
      }
      kept /= sel.sampledRows.length;
      assert.ok(kept >= alpha - TOL, `seed ${seed} alpha=${alpha} rowRatio=${rowRatio}: kept ${kept}`);
      assert.ok(Math.abs(kept - sel.stage1Estimate) < TOL, `seed ${seed}: recomputed ${kept} vs estimate ${sel.stage1Estimate}`);
    }
  }
});

// ---- hand-computed tiny cases ----

test('sampled rows: last row of each near-equal chunk, by hand', () => {
  assert.deepEqual(sampledRows(5, 0.4), [1, 4]); // n = 2: chunks 0..1, 2..4
  assert.deepEqual(sampledRows(4, 0.5), [1, 3]);
  assert.deepEqual(sampledRows(5, 0.6), [0, 2, 4]); // n = 3: chunks 0, 1..2, 3..4
  assert.deepEqual(sampledRows(5, 0.05), [4]); // n = max(1, ceil(0.25)) = 1
  assert.deepEqual(sampledRows(5, 1), [0, 1, 2, 3, 4]);
  assert.deepEqual(sampledRows(1, 0.05), [0]);
  // 0.07 * 100 = 7.000000000000001 in float64; the count is 7, not 8 (params.ts ceilCount).
  assert.equal(sampledRows(100, 0.07).length, 7);
  assert.equal(sampledRows(100, 0.071).length, 8);
});

test('window size by hand, including the float64 near-integer product', () => {
  assert.equal(windowSize(5, 0.08), 1); // ceil(0.4)
  assert.equal(windowSize(5, 0), 0);
  assert.equal(windowSize(4, 0.5), 2);
  assert.equal(windowSize(100, 0.07), 7);
  assert.equal(windowSize(7, 1), 7);
});

test('mask and density by hand (S = 5, w = 2, I_KV = {0}; S = 4 diagonal only)', () => {
  const keySet = keySetOf([0], 5);
  // Rows keep: {0}, {0,1}, {0,1,2}, {0,2,3}, {0,3,4}: 1+2+3+3+3 = 12 of 15.
  const expect = [[0], [0, 1], [0, 1, 2], [0, 2, 3], [0, 3, 4]];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.equal(inMask(i, j, 2, keySet), expect[i].includes(j), `M[${i},${j}]`);
  assert.equal(density(5, 2, keySet), 12 / 15);
  assert.equal(density(4, 0, new Uint8Array(4)), 4 / 10); // w = 0 still keeps the diagonal
  assert.equal(density(4, 0, keySetOf([3], 4)), 4 / 10); // key 3 is only on row 3's diagonal
  assert.equal(density(4, 0, keySetOf([0], 4)), 7 / 10);
});

// q = [1, 1, 1], k = [0, ln 2, ln 3], d = 1, scale = 1: row 2 scores exp to 1:2:3, row 1 to 1:2.
const q3 = [1, 1, 1], k3 = [0, Math.log(2), Math.log(3)], v3 = [10, 20, 30];

test('attention rows, column scores and dense LSE by hand (S = 3, d = 1)', () => {
  const close = (a: ArrayLike<number>, b: number[], what: string) => b.forEach((x, t) => assert.ok(Math.abs(a[t] - x) < TOL, `${what}[${t}] ${a[t]} vs ${x}`));
  close(attentionRow(q3, k3, 3, 1, 2, 1), [1 / 6, 2 / 6, 3 / 6], 'P_2');
  close(attentionRow(q3, k3, 3, 1, 1, 1), [1 / 3, 2 / 3], 'P_1');
  close(columnScores(q3, k3, 3, 1, [0, 1, 2], 1), [1 + 1 / 3 + 1 / 6, 2 / 3 + 2 / 6, 3 / 6], 'c');
  const dense = denseAttention(q3, k3, v3, 3, 1, 1);
  close(dense.lse, [0, Math.log(3), Math.log(6)], 'lse');
  close(dense.out, [10, 10 / 3 + 40 / 3, 10 / 6 + 40 / 6 + 90 / 6], 'O');
  // w = 0, I_KV = {0}: row 2 keeps keys 0 and 2 (mass 1/6 + 3/6), renormalised to 1:3.
  const keySet = keySetOf([0], 3);
  close(rowRecall(q3, k3, 3, 1, 0, keySet, 1), [1, 1, 2 / 3], 'R');
  close(sparseAttention(q3, k3, v3, 3, 1, 0, keySet, 1), [10, 10 / 3 + 40 / 3, 10 / 4 + 90 / 4], 'O_sparse');
});

test('key selection by hand: thresholds, ties by smaller j, alpha = 1 keeps every positive score', () => {
  // c = [1.5, 1, 0.5] (the S = 3 case above, n = 3): alpha 0.4 -> 1.2 of 3: key 0 alone.
  const c = columnScores(q3, k3, 3, 1, [0, 1, 2], 1);
  assert.deepEqual(selectKeys(c, 0.4, 3).keys, [0]);
  assert.deepEqual(selectKeys(c, 0.6, 3).keys, [0, 1]);
  assert.ok(Math.abs(selectKeys(c, 0.6, 3).stage1Estimate - 2.5 / 3) < TOL);
  assert.deepEqual(selectKeys(c, 0.9, 3).keys, [0, 1, 2]);

  const tied = Float64Array.from([0.5, 1, 1, 0.5]);
  const s = selectKeys(tied, 0.3, 3);
  assert.deepEqual(s.order, [1, 2, 0, 3]);
  assert.deepEqual(Array.from(s.cumulative), [1 / 3, 2 / 3, 2.5 / 3, 1]);
  assert.deepEqual(s.keys, [1]);
  assert.deepEqual(selectKeys(tied, 0.5, 3).keys, [1, 2]); // 2 >= 1.5 exactly
  assert.deepEqual(selectKeys(tied, 0.7, 3).keys, [0, 1, 2]);

  assert.deepEqual(selectKeys(Float64Array.from([0, 2, 0, 1]), 1, 3).keys, [1, 3]);
  // 3 + 1e-20 == 3 in float64, yet alpha = 1 must keep the tiny positive key too.
  assert.deepEqual(selectKeys(Float64Array.from([3, 1e-20, 0]), 1, 3).keys, [0, 1]);
  assert.deepEqual(selectKeys(Float64Array.from([3, 1e-20, 0]), 0.999999, 3).keys, [0]);
  // alpha -> 0 keeps exactly one key.
  assert.deepEqual(selectKeys(Float64Array.from([1, 2, 2]), 1e-300, 5).keys, [1]);
});

test('percentile is nearest-rank on sorted values', () => {
  const xs = Array.from({ length: 100 }, (_, t) => 100 - t); // 100..1
  assert.equal(percentile(xs, 5), 5);
  assert.equal(percentile(xs, 0), 1);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile([3, 1, 2], 5), 1); // rank ceil(0.15) = 1
  assert.equal(percentile([3, 1, 2], 34), 2); // rank ceil(1.02) = 2
  assert.equal(percentile([0.5, -0.25], 100), 0.5);
  assert.throws(() => percentile([], 5), /empty/);
  assert.throws(() => percentile([1, NaN], 5), /NaN/);
});

test('validateParams names the bad field and its range', () => {
  validateParams(DEFAULT_PARAMS);
  validateParams({ alpha: 1, rowRatio: 1, windowRatio: 0 });
  assert.throws(() => validateParams({ alpha: 1.7, rowRatio: 0.05, windowRatio: 0.08 }), /alpha: 1\.7 is outside \(0, 1\]/);
  assert.throws(() => validateParams({ alpha: 0, rowRatio: 0.05, windowRatio: 0.08 }), /alpha: 0 is outside \(0, 1\]/);
  assert.throws(() => validateParams({ alpha: 0.9, rowRatio: 0, windowRatio: 0.08 }), /rowRatio: 0 is outside \(0, 1\]/);
  assert.throws(() => validateParams({ alpha: 0.9, rowRatio: 0.1, windowRatio: -0.1 }), /windowRatio: -0\.1 is outside \[0, 1\]/);
  assert.throws(() => validateParams({ alpha: NaN, rowRatio: 0.1, windowRatio: 0.1 }), /alpha: .*not a finite number/);
});

test('sparse attention with a diagonal-only mask returns v_i; with a window it equals dense attention over the kept keys', () => {
  const seed = freshSeed();
  const S = 31, d = 6;
  const { q, k, v } = randomHead(seed, S, d);
  const diag = sparseAttention(q, k, v, S, d, 0, new Uint8Array(S));
  for (let t = 0; t < S * d; t++) assert.ok(Math.abs(diag[t] - v[t]) < TOL, `seed ${seed} element ${t}`);

  const w = 4, keySet = keySetOf([2, 9, 17], S);
  const sparse = sparseAttention(q, k, v, S, d, w, keySet);
  for (const i of [0, 5, 18, S - 1]) {
    // Gather the kept keys of row i (ascending), put q_i last, and run DENSE causal attention.
    const kept = [];
    for (let j = 0; j <= i; j++) if (inMask(i, j, w, keySet)) kept.push(j);
    const m = kept.length;
    const qs = new Float64Array(m * d), ks = new Float64Array(m * d), vs = new Float64Array(m * d);
    kept.forEach((j, t) => {
      for (let e = 0; e < d; e++) { ks[t * d + e] = k[j * d + e]; vs[t * d + e] = v[j * d + e]; qs[t * d + e] = q[i * d + e]; }
    });
    const ref = denseAttention(qs, ks, vs, m, d).out.subarray((m - 1) * d, m * d);
    for (let e = 0; e < d; e++) assert.ok(Math.abs(sparse[i * d + e] - ref[e]) < TOL, `seed ${seed} row ${i} dim ${e}`);
  }
});

// ---- properties over random sizes and parameters ----

const paramsArb = fc.record({
  alpha: fc.oneof(fc.double({ min: 1e-6, max: 1, noNaN: true }), fc.constant(1)),
  rowRatio: fc.oneof(fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.constant(1)),
  windowRatio: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(0), fc.constant(1)),
});

const seedProp = freshSeed();
test(`properties of one head's selection over random S, d, params (fast-check seed ${seedProp})`, () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), paramsArb, (S, d, dataSeed, params) => {
      const { q, k, v } = randomHead(dataSeed, S, d);
      const sel = selectHead(q, k, S, d, params, { v });
      const n = sel.sampledRows.length;

      // Sampled rows: n = max(1, ceil(rowRatio S)) strictly ascending, ending at S - 1.
      assert.ok(n >= 1 && n <= S);
      assert.equal(sel.sampledRows[n - 1], S - 1);
      for (let t = 1; t < n; t++) assert.ok(sel.sampledRows[t] > sel.sampledRows[t - 1]);

      // Keys ascending, unique, in range.
      const keys = sel.selectedKeys;
      assert.ok(keys.length >= 1);
      for (let t = 0; t < keys.length; t++) {
        assert.ok(Number.isInteger(keys[t]) && keys[t] >= 0 && keys[t] < S);
        if (t > 0) assert.ok(keys[t] > keys[t - 1], 'keys ascending and unique');
      }

      // Stage 1 estimate reaches alpha; dropping the last key in sorted order falls below alpha * n.
      assert.ok(sel.stage1Estimate >= params.alpha * (1 - TOL), `estimate ${sel.stage1Estimate} < alpha ${params.alpha}`);
      const c = columnScores(q, k, S, d, sel.sampledRows);
      const ks = selectKeys(c, params.alpha, n);
      for (let t = 1; t < S; t++) {
        const a = c[ks.order[t - 1]], b = c[ks.order[t]];
        assert.ok(a > b || (a === b && ks.order[t - 1] < ks.order[t]), 'order: descending, ties by smaller j');
      }
      let total = 0;
      for (let t = 0; t < S; t++) total += c[ks.order[t]];
      let before = 0;
      for (let t = 0; t < keys.length - 1; t++) before += c[ks.order[t]];
      if (params.alpha < 1) {
        if (keys.length > 1) assert.ok(before < params.alpha * total, `not minimal: ${before} >= ${params.alpha} * ${total}`);
      } else {
        assert.ok(c[ks.order[keys.length - 1]] > 0, 'alpha = 1 keeps only positive scores');
        if (keys.length < S) assert.equal(c[ks.order[keys.length]], 0, 'alpha = 1 keeps every positive score');
      }

      // Density: in (0, 1] and equal to the brute-force count.
      const keySet = keySetOf(keys, S);
      assert.ok(sel.density > 0 && sel.density <= 1);
      assert.equal(sel.density, bruteCount(S, sel.window, keySet) / ((S * (S + 1)) / 2));

      // Recall in [0, 1] (float64 sums of a full row can exceed 1 by rounding only).
      const rec = rowRecall(q, k, S, d, sel.window, keySet);
      for (let i = 0; i < S; i++) assert.ok(rec[i] >= 0 && rec[i] <= 1 + TOL, `row ${i} recall ${rec[i]}`);
      // Recall adds exactly the entries inMask keeps (same ascending order, so bit-equal).
      for (const i of [0, S >> 1, S - 1]) {
        const p = attentionRow(q, k, S, d, i);
        let r = 0;
        for (let j = 0; j <= i; j++) if (inMask(i, j, sel.window, keySet)) r += p[j];
        assert.equal(rec[i], r, `row ${i}: recall disagrees with inMask`);
      }
      assert.ok(sel.recallMin <= sel.recallP5 && sel.recallP5 <= Math.max(...rec));

      // A full mask: recall 1 everywhere and sparse == dense.
      if (fullCausal(S, sel.window, keySet)) {
        assert.ok(Math.abs(sel.recallMin - 1) < TOL);
        assert.ok((sel.outputError ?? NaN) < TOL, `full mask but output error ${sel.outputError}`);
      }
      const all = new Uint8Array(S).fill(1);
      const sp = sparseAttention(q, k, v, S, d, 0, all), de = denseAttention(q, k, v, S, d).out;
      for (let t = 0; t < S * d; t++) assert.ok(Math.abs(sp[t] - de[t]) <= TOL * (1 + Math.abs(de[t])));
      for (const r of rowRecall(q, k, S, d, 0, all)) assert.ok(Math.abs(r - 1) < TOL);
    }),
    { seed: seedProp, numRuns: 150 },
  );
});

const seedMono = freshSeed();
test(`a larger windowRatio never lowers any row's recall (fast-check seed ${seedMono})`, () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), paramsArb, fc.double({ min: 0, max: 1, noNaN: true }), (S, d, dataSeed, params, w2) => {
      const { q, k } = randomHead(dataSeed, S, d);
      const lo = Math.min(params.windowRatio, w2), hi = Math.max(params.windowRatio, w2);
      const a = selectHead(q, k, S, d, { ...params, windowRatio: lo });
      const b = selectHead(q, k, S, d, { ...params, windowRatio: hi });
      assert.deepEqual(a.selectedKeys, b.selectedKeys, 'keys do not depend on the window');
      const ra = rowRecall(q, k, S, d, a.window, keySetOf(a.selectedKeys, S));
      const rb = rowRecall(q, k, S, d, b.window, keySetOf(b.selectedKeys, S));
      for (let i = 0; i < S; i++) assert.ok(rb[i] >= ra[i], `row ${i}: recall ${rb[i]} at windowRatio ${hi} < ${ra[i]} at ${lo}`);
      assert.ok(b.density >= a.density);
    }),
    { seed: seedMono, numRuns: 150 },
  );
});

const seedGqa = freshSeed();
test(`selectAll: query head h reads kv head floor(h / (heads / kvHeads)) (fast-check seed ${seedGqa})`, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((kvHeads) => fc.tuple(fc.constant(kvHeads), fc.integer({ min: 1, max: 3 }).map((g) => g * kvHeads))),
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(paramsArb, { minLength: 12, maxLength: 12 }),
      ([kvHeads, heads], S, d, dataSeed, ps) => {
        const r = rng(dataSeed);
        const q = randn(r, heads * S * d), k = randn(r, kvHeads * S * d);
        const per = ps.slice(0, heads);
        const got = selectAll(q, k, heads, kvHeads, S, d, per);
        assert.equal(got.length, heads);
        const group = heads / kvHeads;
        for (let h = 0; h < heads; h++) {
          const g = Math.floor(h / group);
          const want = selectHead(q.slice(h * S * d, (h + 1) * S * d), k.slice(g * S * d, (g + 1) * S * d), S, d, per[h], { head: h });
          assert.deepEqual(got[h], want, `head ${h} (kv head ${g})`);
        }
        const shared = selectAll(q, k, heads, kvHeads, S, d, per[0]);
        assert.deepEqual(shared[heads - 1].selectedKeys, selectAll(q, k, heads, kvHeads, S, d, Array(heads).fill(per[0]))[heads - 1].selectedKeys);
      },
    ),
    { seed: seedGqa, numRuns: 60 },
  );
  assert.throws(() => selectAll(new Float32Array(3 * 4), new Float32Array(2 * 4), 3, 2, 2, 2), /not a multiple of kvHeads/);
});

test('percentile by quickselect equals the sorted list\'s nearest rank (ties, runs, odd sizes)', () => {
  const r = rng(freshSeed());
  for (const N of [1, 2, 3, 7, 100, 1001]) {
    for (const kind of ['random', 'few values', 'sorted', 'reversed'] as const) {
      const xs = Array.from({ length: N }, (_, i) => kind === 'random' ? r() : kind === 'few values' ? Math.floor(r() * 3) : kind === 'sorted' ? i : N - i);
      const sorted = [...xs].sort((a, b) => a - b);
      for (const p of [0, 5, 50, 95, 100]) {
        const rank = Math.min(N, Math.max(1, Math.ceil((p / 100) * N)));
        assert.equal(percentile(xs, p), sorted[rank - 1], `N ${N}, ${kind}, p ${p}`);
      }
    }
  }
});
