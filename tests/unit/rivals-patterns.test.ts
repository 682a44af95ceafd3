// Rival patterns (src/sampleattention/studies/rivals.ts): every curve's points are valid measures; the oracle is at
// least as good as every pattern at equal density; full budgets give recall 1; SampleAttention's
// mask measured here agrees with the float64 reference's selectHead; each mask is the pattern its
// definition says; the `blocks` variant's curve is its float64 reference's selection at each alpha.
// Inputs: fresh random heads of awkward sizes, seed in the test name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSeed, randn, rng } from '../helpers/gpu';
import {
  blockMask, blockScores, causalAttention, causalCount, countForDensity, entryIndex, estimateVerticalSlash, headCurves,
  measureMask, MIN_RIVAL_BLOCKS, minferenceMask, modelCurves, oracleMask, oracleOrder, recallAtDensity, rivalBlockSize, sampleBlocksMask, streamingMask, verticalSlashMask,
} from '../../src/sampleattention/studies/rivals';
import { headView, kvHeadOf, selectHead } from '../../src/sampleattention/spec/reference';
import { selectHeadBlocks } from '../../src/sampleattention/spec/blocks/reference';
import { blocksSampledRows } from '../../src/sampleattention/spec/blocks/params';
import { stripScores } from '../../src/sampleattention/spec/blocks/selection';

const seed = freshSeed();

/** A head with a few strong sink keys (so patterns differ) on top of random scores. */
function head(r: () => number, S: number, d: number, sinkStrength: number) {
  const q = randn(r, S * d);
  const k = randn(r, S * d);
  const u = randn(r, d);
  const sinks = [0, Math.floor(r() * S), Math.floor(r() * S)];
  for (let i = 0; i < S; i++) for (let c = 0; c < d; c++) q[i * d + c] = 0.5 * q[i * d + c] + u[c] * sinkStrength;
  for (const j of sinks) for (let c = 0; c < d; c++) k[j * d + c] += u[c] * sinkStrength;
  return { q, k };
}

// Float64 sums of the same non-negative terms in different orders differ by a few ulps of 1.
const EPS = 1e-12;

test(`rival curves: recall in [0, 1], density in (0, 1], oracle >= every pattern at equal density (SEED=${seed})`, () => {
  const r = rng(seed);
  for (const [S, d, strength] of [[37, 24, 0], [61, 16, 1.5], [90, 40, 0.8]] as const) {
    const { q, k } = head(r, S, d, strength);
    const curves = headCurves(q, k, S, d, { block: 7, lastQ: 13 });
    const P = causalAttention(q, k, S, d, 1 / Math.sqrt(d));
    const order = oracleOrder(P);
    assert.deepEqual(curves.map((c) => c.pattern), ['sampleattention', 'sampleattention-blocks', 'streamingllm', 'vertical-slash', 'block-topk', 'oracle']);
    for (const c of curves) {
      assert.ok(c.points.length >= 2, `${c.pattern}: ${c.points.length} points`);
      for (const p of c.points) {
        for (const x of [p.recallMean, p.recallMin, p.recallP5]) assert.ok(x >= 0 && x <= 1 + EPS, `${c.pattern} S=${S}: recall ${x}`);
        assert.ok(p.recallMin <= p.recallP5 + EPS && p.recallP5 <= 1 + EPS, `${c.pattern}: min ${p.recallMin} P5 ${p.recallP5}`);
        assert.ok(p.density > 0 && p.density <= 1, `${c.pattern} S=${S}: density ${p.density}`);
        // The oracle with exactly this many entries.
        const count = Math.round(p.density * causalCount(S));
        const best = measureMask(P, S, oracleMask(order, count));
        assert.ok(best.recallMean >= p.recallMean - EPS, `${c.pattern} S=${S} knob ${p.knob}: recall ${p.recallMean} beats the oracle's ${best.recallMean} at ${count} entries`);
      }
      // The largest knob of each sweep is the full budget: recall 1 and density 1.
      const last = c.points[c.points.length - 1];
      assert.equal(last.density, 1, `${c.pattern} S=${S}: full budget density ${last.density}`);
      assert.ok(Math.abs(last.recallMean - 1) < 1e-12 && Math.abs(last.recallMin - 1) < 1e-12, `${c.pattern} S=${S}: full budget recall ${last.recallMean}, min ${last.recallMin}`);
    }
  }
});

test(`SampleAttention's curve matches the float64 reference's selectHead (SEED=${seed})`, () => {
  const r = rng(seed + 1);
  const S = 53, d = 24;
  const { q, k } = head(r, S, d, 1);
  const curves = headCurves(q, k, S, d, { alphas: [0.3, 0.9, 1], rowRatio: 0.1, windowRatio: 0.06 });
  const sa = curves.find((c) => c.pattern === 'sampleattention')!;
  for (const p of sa.points) {
    const ref = selectHead(q, k, S, d, { alpha: p.knob, rowRatio: 0.1, windowRatio: 0.06 });
    assert.equal(p.density, ref.density, `alpha ${p.knob}`);
    // Same terms summed in the same ascending order, from the same float64 softmax up to the
    // order of its normalisation: a few ulps.
    assert.ok(Math.abs(p.recallMean - ref.recallMean) < EPS && Math.abs(p.recallMin - ref.recallMin) < EPS && Math.abs(p.recallP5 - ref.recallP5) < EPS, `alpha ${p.knob}: ${JSON.stringify(p)} vs ${JSON.stringify(ref)}`);
  }
});

test(`SampleAttention blocks' curve is the float64 reference's selectHeadBlocks at alphaColumn = alphaSlash = each alpha (SEED=${seed})`, () => {
  const r = rng(seed + 6);
  // Awkward sizes: S not a multiple of b, a last block of 1 key (S = 81, b = 5), the default b.
  for (const [S, d, b, rowRatio] of [[53, 24, 5, 0.1], [81, 8, 5, 0.3], [77, 16, undefined, 0.05], [130, 12, 16, 0.2]] as const) {
    const { q, k } = head(r, S, d, 1.2);
    const alphas = [0.2, 0.6, 0.9, 0.97, 1];
    const blocks = headCurves(q, k, S, d, { alphas, rowRatio, blockSize: b }).find((c) => c.pattern === 'sampleattention-blocks')!;
    const bb = b ?? rivalBlockSize(S);
    assert.equal(blocks.knob, `alpha, column = slash (block ${bb})`);
    assert.deepEqual(blocks.points.map((p) => p.knob), alphas);
    for (const p of blocks.points) {
      const ref = selectHeadBlocks(q, k, S, d, { blockSize: bb, alphaColumn: p.knob, alphaSlash: p.knob, rowRatio });
      // Both counts are exact integers over the same N.
      assert.equal(p.density, ref.density, `S ${S} alpha ${p.knob}`);
      // The reference sums its own softmax rows (rowRecallWhere), the curve the flat P of
      // causalAttention: the same float64 terms, ascending j, up to the order of the
      // normalisation: a few ulps of 1.
      for (const m of ['recallMean', 'recallMin', 'recallP5'] as const) assert.ok(Math.abs(p[m] - ref[m]) < EPS, `S ${S} alpha ${p.knob} ${m}: ${p[m]} vs ${ref[m]}`);
    }
    assert.ok(new Set(blocks.points.map((p) => p.density)).size >= 2, `S ${S}: the sweep moves the density`);
    // The mask entry by entry, from the reference's kept blocks and bands written out, also with
    // alphaColumn != alphaSlash (the curve only sweeps them equal).
    const rows = blocksSampledRows(S, bb, rowRatio);
    const strips = stripScores(q, k, S, d, bb, rows);
    for (const [ac, as] of [[0.6, 0.6], [0.9, 0.3], [0.25, 0.97]]) {
      const ref = selectHeadBlocks(q, k, S, d, { blockSize: bb, alphaColumn: ac, alphaSlash: as, rowRatio });
      const cols = new Set(ref.columnBlocks), bands = new Set(ref.slashBands);
      const m = sampleBlocksMask(S, bb, strips, rows.length, ac, as);
      assert.equal(m.length, causalCount(S));
      for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) {
        assert.equal(m[entryIndex(i, j)] === 1, cols.has(Math.floor(j / bb)) || bands.has(Math.floor((i - j) / bb)), `S ${S} b ${bb} alphas ${ac}/${as}: (${i}, ${j})`);
      }
    }
  }
  assert.throws(() => headCurves(new Float64Array(8 * 4), new Float64Array(8 * 4), 8, 4, { blockSize: 0 }), /headCurves: blockSize 0 is not an integer in \[1, 65536\]/);
});

test('the blocks rival\'s default block size: 128, halved while the text would have fewer than 8 blocks', () => {
  assert.deepEqual([1, 7, 8, 15, 16, 48, 511, 512, 1023, 1024, 4096].map(rivalBlockSize), [1, 1, 1, 1, 2, 4, 32, 64, 64, 128, 128]);
  for (let S = 1; S <= 3000; S++) {
    const b = rivalBlockSize(S);
    assert.ok(Number.isInteger(Math.log2(b)) && b >= 1 && b <= 128, `S ${S}: b ${b}`);
    if (S >= MIN_RIVAL_BLOCKS) assert.ok(Math.ceil(S / b) >= MIN_RIVAL_BLOCKS, `S ${S}: b ${b} leaves ${Math.ceil(S / b)} blocks`);
    if (b < 128) assert.ok(2 * b * MIN_RIVAL_BLOCKS > S, `S ${S}: ${2 * b} would also leave 8 blocks`);
  }
});

test(`masks are what their patterns say (SEED=${seed})`, () => {
  const r = rng(seed + 2);
  const S = 41, d = 16;
  const { q, k } = head(r, S, d, 1);
  const P = causalAttention(q, k, S, d, 0.25);
  // Rows of P sum to 1.
  for (let i = 0; i < S; i++) {
    let s = 0;
    for (let j = 0; j <= i; j++) s += P[entryIndex(i, j)];
    assert.ok(Math.abs(s - 1) < 1e-12, `row ${i} sums to ${s}`);
  }
  // StreamingLLM: exactly sinks + window.
  const sm = streamingMask(S, 3, 5);
  for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) assert.equal(sm[entryIndex(i, j)] === 1, j < 3 || i - j < 5, `streaming (${i}, ${j})`);
  // Vertical-slash: the kept columns/diagonals are the top-scored ones; a line count of 0 keeps column 0 and the diagonal.
  const est = estimateVerticalSlash(P, S, 9);
  const vs0 = verticalSlashMask(S, est, 0);
  for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) assert.equal(vs0[entryIndex(i, j)] === 1, j === 0 || i === j);
  const vs2 = verticalSlashMask(S, est, 2);
  const [c1, c2] = est.columnOrder, [o1, o2] = est.slashOrder;
  assert.ok(est.vertical[c1] >= est.vertical[c2] && est.vertical[c2] >= Math.max(...Array.from(est.vertical).filter((_, j) => j !== c1 && j !== c2)));
  for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) {
    const want = j === 0 || i === j || j === c1 || j === c2 || i - j === o1 || i - j === o2;
    assert.equal(vs2[entryIndex(i, j)] === 1, want, `vertical-slash (${i}, ${j})`);
  }
  // Block top-k: shares of each query block sum to 1; whole blocks are kept; the diagonal block always.
  for (const scoring of ['antidiagonal', 'pooled'] as const) {
    const bs = blockScores(P, q, k, S, d, 0.25, 6, scoring, 4);
    for (let I = 0; I < bs.blocks; I++) {
      let z = 0;
      for (let J = 0; J <= I; J++) z += bs.share[I * bs.blocks + J];
      assert.ok(Math.abs(z - 1) < 1e-12, `${scoring}: block row ${I} shares sum to ${z}`);
    }
    const bm = blockMask(S, bs, 0.5);
    for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) {
      const I = Math.floor(i / 6), J = Math.floor(j / 6);
      if (I === J) assert.equal(bm[entryIndex(i, j)], 1, `${scoring}: diagonal block entry (${i}, ${j})`);
      // Same block, same decision (for every causal entry of the block).
      const i0 = I * 6 + 5 < S ? I * 6 + 5 : S - 1;
      if (J * 6 <= i0 && j <= i0) assert.equal(bm[entryIndex(i, j)], bm[entryIndex(i0, j)], `${scoring}: block (${I}, ${J}) split`);
    }
  }
  // Oracle: exactly count entries, each at least as large as any left out.
  const order = oracleOrder(P);
  const count = countForDensity(S, 0.2);
  const om = oracleMask(order, count);
  let kept = 0, minKept = Infinity, maxOut = -Infinity;
  for (let e = 0; e < om.length; e++) {
    if (om[e]) { kept++; minKept = Math.min(minKept, P[e]); } else maxOut = Math.max(maxOut, P[e]);
  }
  assert.equal(kept, count);
  assert.ok(minKept >= maxOut, `oracle kept ${minKept} but left out ${maxOut}`);
});

test(`model curves average heads; recallAtDensity interpolates (SEED=${seed})`, () => {
  const r = rng(seed + 3);
  const heads = 4, kvHeads = 2, S = 29, d = 8;
  const q = randn(r, heads * S * d), k = randn(r, kvHeads * S * d);
  const per = Array.from({ length: heads }, (_, h) => headCurves(headView(q, h, S, d), headView(k, kvHeadOf(h, heads, kvHeads), S, d), S, d, { block: 5, lastQ: 7 }));
  const model = modelCurves(per);
  for (let p = 0; p < model.length; p++) {
    for (let t = 0; t < model[p].points.length; t++) {
      const ds = per.map((h) => h[p].points[t].density);
      assert.ok(Math.abs(model[p].points[t].density - ds.reduce((a, b) => a + b, 0) / heads) < 1e-15);
      assert.equal(model[p].points[t].recallMin, Math.min(...per.map((h) => h[p].points[t].recallMin)));
    }
  }
  const curve = { pattern: 'oracle' as const, knob: 'density', points: [{ knob: 0, density: 0.2, recallMean: 0.5, recallMin: 0, recallP5: 0 }, { knob: 1, density: 0.6, recallMean: 0.9, recallMin: 0, recallP5: 0 }] };
  assert.ok(Math.abs(recallAtDensity(curve, 0.4) - 0.7) < 1e-15);
  assert.ok(Number.isNaN(recallAtDensity(curve, 0.1)), 'below the sparsest point there is no value');
  assert.equal(recallAtDensity(curve, 0.2), 0.5);
  assert.equal(recallAtDensity(curve, 0.9), 0.9);
  assert.throws(() => oracleMask(oracleOrder(new Float64Array(3)), 0), /count must be/);
});

test(`a MInference config's head is masked as its kernel runs it: sizes raised to 30 / 50, the first 30 columns and 30 diagonals inside the budget (SEED=${seed})`, () => {
  const r = rng(seed + 5);
  const S = 97, d = 16;
  const { q, k } = head(r, S, d, 1.2);
  const P = causalAttention(q, k, S, d, 0.25);
  const est = estimateVerticalSlash(P, S, 64);
  /** The kept lines by the rule written out: forced first, then the top of the order, `n` in all. */
  const lines = (order: number[], n: number) => {
    const on = new Set(Array.from({ length: 30 }, (_, t) => t));
    for (const x of order) if (on.size < n) on.add(x);
    return on;
  };
  for (const [v, sl] of [[35, 60], [0, 0], [31, 200], [1000, 6096]] as const) {
    const cols = lines(est.columnOrder, Math.min(S, Math.max(v, 30))), diags = lines(est.slashOrder, Math.min(S, Math.max(sl, 50)));
    const m = minferenceMask(S, est, { pattern: 'vertical_and_slash', verticalSize: v, slashSize: sl });
    for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) assert.equal(m[entryIndex(i, j)] === 1, cols.has(j) || diags.has(i - j), `v ${v} s ${sl}: (${i}, ${j})`);
    if (v >= S) assert.equal(measureMask(P, S, m).density, 1, 'sizes past S keep everything');
  }
  assert.deepEqual(minferenceMask(S, est, { pattern: 'stream_llm', verticalSize: 3, slashSize: 9 }), streamingMask(S, 3, 9));
  // headCurves adds one 'minference' point, estimated from the last 64 queries even when the
  // density rival is given another lastQ.
  const head0 = { pattern: 'vertical_and_slash' as const, verticalSize: 40, slashSize: 52, score: 0.9 };
  const curves = headCurves(q, k, S, d, { lastQ: 13, minference: head0 });
  assert.deepEqual(curves.map((c) => c.pattern), ['sampleattention', 'sampleattention-blocks', 'streamingllm', 'vertical-slash', 'block-topk', 'oracle', 'minference']);
  const P4 = causalAttention(q, k, S, d, 1 / Math.sqrt(d));
  assert.deepEqual(curves[6].points, [measureMask(P4, S, minferenceMask(S, estimateVerticalSlash(P4, S, 64), head0), 0)]);
  assert.notDeepEqual(estimateVerticalSlash(P4, S, 13).columnOrder.slice(0, 40), estimateVerticalSlash(P4, S, 64).columnOrder.slice(0, 40), 'the two estimates differ, so the check above can tell them apart');
  assert.equal(headCurves(q, k, S, d).length, 6, 'no file, no minference curve');
});
