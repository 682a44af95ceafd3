// The tuning rule (src/sampleattention/studies/tune.ts chooseHead) on synthetic measures: the lowest-density
// qualifying grid point over every text, the P5 rule, ties, and the densest fallback. Measures are
// drawn at random (seed in the names) and the choice is checked against a brute-force restatement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSeed, rng } from '../helpers/gpu';
import { chooseHead, gridPoints, isFullMask, DEFAULT_BLOCKS_GRID, DEFAULT_GRID, type TuneRule } from '../../src/sampleattention/studies/tune';
import type { HeadMeasures } from '../../src/sampleattention/formats/config-file';

const seed = freshSeed();
const m = (recallMean: number, recallP5: number, density: number): HeadMeasures => ({ recallMean, recallMin: Math.min(recallP5, recallMean), recallP5, density });

test('gridPoints: every combination, validated', () => {
  const pts = gridPoints({ alpha: [0.9, 1], rowRatio: [0.05], windowRatio: [0, 0.5, 1] });
  assert.equal(pts.length, 6);
  assert.deepEqual(pts[0], { variant: 'tokens', alpha: 0.9, rowRatio: 0.05, windowRatio: 0 });
  assert.deepEqual(pts[5], { variant: 'tokens', alpha: 1, rowRatio: 0.05, windowRatio: 1 });
  // The default grid has no windowRatio 1, so the full mask is appended as its last point.
  const def = gridPoints(DEFAULT_GRID);
  assert.equal(def.length, DEFAULT_GRID.alpha.length * DEFAULT_GRID.rowRatio.length * DEFAULT_GRID.windowRatio.length + 1);
  assert.deepEqual(def[def.length - 1], { variant: 'tokens', alpha: 0.98, rowRatio: 0.05, windowRatio: 1 });
  assert.equal(def.filter(isFullMask).length, 1);
  assert.throws(() => gridPoints({ alpha: [1.5], rowRatio: [0.05], windowRatio: [0] }), /alpha/);
  assert.throws(() => gridPoints({ alpha: [], rowRatio: [0.05], windowRatio: [0] }), /at least one/);
});

test('gridPoints with variants: blocks points after the tokens ones, block sizes above S / 2 left out, the full mask last', () => {
  const tokens = { alpha: [0.9], rowRatio: [0.1], windowRatio: [0, 0.2] };
  const blocks = { blockSize: [16, 32, 64], alphaColumn: [0.9, 0.95], alphaSlash: [0.9], rowRatio: [0.05] };
  const both = gridPoints({ ...tokens, blocks, variant: 'both' }, 100);
  assert.deepEqual(both.map((p) => p.variant), ['tokens', 'tokens', 'blocks', 'blocks', 'blocks', 'blocks', 'tokens']);
  assert.deepEqual(both.filter((p) => p.variant === 'blocks').map((p) => p.variant === 'blocks' && [p.blockSize, p.alphaColumn]), [[16, 0.9], [16, 0.95], [32, 0.9], [32, 0.95]], 'b = 64 > S / 2 is one block: left out');
  assert.ok(isFullMask(both[both.length - 1]));
  const only = gridPoints({ ...tokens, variant: 'blocks' }, 40);
  assert.deepEqual(only.map((p) => p.variant), ['blocks', 'blocks', 'blocks', 'blocks', 'tokens'], 'DEFAULT_BLOCKS_GRID at S 40: b = 16 only, then the full mask');
  assert.ok(only.slice(0, -1).every((p) => p.variant === 'blocks' && p.blockSize === 16 && DEFAULT_BLOCKS_GRID.rowRatio.includes(p.rowRatio)));
  assert.throws(() => gridPoints({ ...tokens, variant: 'blocks', blocks: { ...blocks, alphaSlash: [] } }), /blocks alphaSlash needs at least one value/);
  assert.throws(() => gridPoints({ ...tokens, variant: 'blocks', blocks: { ...blocks, blockSize: [0.5] } }), /blockSize: 0.5 is not an integer/);
  // chooseHead reads only the measures: the lowest density wins whatever its variant.
  const pts = both;
  const meas = [pts.map((p, i) => m(0.97, 0.9, p.variant === 'blocks' ? 0.2 + 0.01 * i : 0.5 + 0.01 * i))];
  meas[0][pts.length - 1] = m(1, 1, 1);
  const c = chooseHead(pts, meas, { targetRecall: 0.95 });
  assert.equal(c.params.variant, 'blocks');
  assert.equal(c.point, 2);
});

test('chooseHead: lowest density meeting the target on every text; P5 rule; fallback to the densest', () => {
  // The four sparse points only (gridPoints appends the full mask; chooseHead takes any points).
  const pts = gridPoints({ alpha: [0.9], rowRatio: [0.05], windowRatio: [0, 0.1, 0.2, 0.3] }).slice(0, 4);
  // Text A: points 1..3 meet 0.95; text B: only 2..3 do. So point 2 (density 0.3) wins, not 1 (0.2).
  const A = [m(0.9, 0.8, 0.1), m(0.96, 0.9, 0.2), m(0.97, 0.5, 0.3), m(0.99, 0.95, 0.4)];
  const B = [m(0.8, 0.7, 0.1), m(0.94, 0.9, 0.2), m(0.96, 0.9, 0.3), m(0.99, 0.95, 0.4)];
  let c = chooseHead(pts, [A, B], { targetRecall: 0.95 });
  assert.equal(c.point, 2);
  assert.equal(c.met, true);
  assert.equal(c.worstRecallMean, 0.96);
  assert.ok(Math.abs(c.meanDensity - 0.3) < 1e-15);
  // With a P5 floor of 0.85, point 2 fails on text A (P5 0.5): point 3.
  c = chooseHead(pts, [A, B], { targetRecall: 0.95, minRowRecall: 0.85 });
  assert.equal(c.point, 3);
  // Nothing meets 0.999: the densest point, flagged.
  c = chooseHead(pts, [A, B], { targetRecall: 0.999 });
  assert.equal(c.point, 3);
  assert.equal(c.met, false);
  // Ties in density go to the higher worst-text recall.
  const T = [m(0.97, 0.9, 0.2), m(0.98, 0.9, 0.2), m(0.99, 0.9, 0.5), m(0.96, 0.9, 0.2)];
  assert.equal(chooseHead(pts, [T], { targetRecall: 0.95 }).point, 1);
  assert.throws(() => chooseHead(pts, [A.slice(1)], { targetRecall: 0.9 }), /grid points/);
  assert.throws(() => chooseHead(pts, [A], { targetRecall: 1.5 }), /target recall/);
});

test(`chooseHead agrees with a brute-force restatement on random measures (SEED=${seed})`, () => {
  const r = rng(seed);
  for (let trial = 0; trial < 300; trial++) {
    const nPts = 1 + Math.floor(r() * 12), nTexts = 1 + Math.floor(r() * 3);
    const pts = Array.from({ length: nPts }, (_, p) => ({ alpha: 0.5, rowRatio: 0.1, windowRatio: p / nPts }));
    // Coarse values so that ties happen.
    const q = (x: number) => Math.round(x * 20) / 20;
    const meas = Array.from({ length: nTexts }, () => pts.map(() => m(q(0.7 + 0.3 * r()), q(0.5 + 0.5 * r()), Math.max(0.05, q(r())))));
    const rule: TuneRule = { targetRecall: q(0.8 + 0.2 * r()), minRowRecall: r() < 0.5 ? q(0.5 + 0.5 * r()) : undefined };
    const c = chooseHead(pts, meas, rule);
    const stats = pts.map((_, p) => ({
      wm: Math.min(...meas.map((t) => t[p].recallMean)),
      wp: Math.min(...meas.map((t) => t[p].recallP5)),
      d: meas.reduce((a, t) => a + t[p].density, 0) / nTexts,
    }));
    const ok = stats.map((s) => s.wm >= rule.targetRecall && (rule.minRowRecall === undefined || s.wp >= rule.minRowRecall));
    const chosen = stats[c.point];
    assert.equal(c.met, ok.some(Boolean), `trial ${trial}`);
    if (c.met) {
      assert.ok(ok[c.point], `trial ${trial}: chose a point that fails the rule`);
      for (let p = 0; p < nPts; p++) if (ok[p]) {
        assert.ok(stats[p].d >= chosen.d, `trial ${trial}: point ${p} qualifies with density ${stats[p].d} < chosen ${chosen.d}`);
        if (stats[p].d === chosen.d) assert.ok(stats[p].wm <= chosen.wm, `trial ${trial}: tie not broken by recall`);
      }
    } else {
      for (const s of stats) assert.ok(s.d <= chosen.d, `trial ${trial}: fallback is not the densest`);
    }
    assert.deepEqual(c.params, pts[c.point]);
  }
});
