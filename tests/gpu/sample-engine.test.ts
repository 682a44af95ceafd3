import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTensor, uploadTensor, destroyAll } from '../../gpu/tensor';
import { runSampleAttention } from '../../src/sampleattention/gpu-run/layer-run';
import { attentionRow, columnScores, headView, inMask, kvHeadOf, sampledRows, selectAll, selectKeys, windowSize, keySetOf, type SampleParams } from '../../src/sampleattention/spec/reference';
import { freshSeed, gpu, rng } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';
import { tokensResults } from '../../src/sampleattention/spec/setting';

// Per-head measures: recall values within 1e-5 absolute (exp of an f32 lse difference, see
// sample-sparse.test.ts), the P5 order statistic inherits that bound; stage-1 estimate 1e-5
// (running sum of f32 scores); output error 1e-5 (ratio of f32 norms). Density is exact.
const TOL = 1e-5;

/** alpha halfway between two running sums of the reference selection (no f32 tie possible). */
function midpointAlpha(sc: Float64Array, n: number, r: () => number): number {
  const sel = selectKeys(sc, 1, n);
  let t = 1 + Math.floor(r() * Math.min(sc.length - 2, 8));
  while (t > 1 && sc[sel.order[t]] < 0.05) t--;
  return (sel.cumulative[t - 1] + sel.cumulative[t]) / 2 / sel.cumulative[sc.length - 1];
}

const cases = [
  { heads: 4, kvHeads: 2, S: 131, d: 40, pattern: 'structured' as const, withV: true },
  { heads: 4, kvHeads: 4, S: 37, d: 24, pattern: 'random' as const, withV: false },
  { heads: 4, kvHeads: 2, S: 100, d: 64, pattern: 'random' as const, withV: true },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`runSampleAttention equals selectAll per head: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, ${c.pattern}, v ${c.withV} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const x = attentionInputs(seed, c.heads, c.kvHeads, c.S, c.d, c.pattern);
    const r = rng(seed ^ 0x2545f491);
    const params: SampleParams[] = [];
    for (let h = 0; h < c.heads; h++) {
      const rowRatio = [0.05, 0.1, 0.3, 1][h % 4];
      const windowRatio = [0, 0.08, 0.2, 0.5][(h + 1) % 4];
      const rows = sampledRows(c.S, rowRatio);
      const g = kvHeadOf(h, c.heads, c.kvHeads);
      const sc = columnScores(headView(x.q, h, c.S, c.d), headView(x.k, g, c.S, c.d), c.S, c.d, rows);
      params.push({ alpha: h === 3 ? 1 : midpointAlpha(sc, rows.length, r), rowRatio, windowRatio });
    }
    const q = uploadTensor(ctx, 'q', [c.heads, c.S, c.d], x.q);
    const k = uploadTensor(ctx, 'k', [c.kvHeads, c.S, c.d], x.k);
    const v = c.withV ? uploadTensor(ctx, 'v', [c.kvHeads, c.S, c.d], x.v) : undefined;
    const run = await runSampleAttention(ctx, { q, k, v, heads: c.heads, kvHeads: c.kvHeads, S: c.S, d: c.d, params });
    const res = { ...run, heads: tokensResults(run.heads, 'this test') };
    const ref = selectAll(x.q, x.k, c.heads, c.kvHeads, c.S, c.d, params, { v: c.withV ? x.v : undefined });
    for (let h = 0; h < c.heads; h++) {
      const a = res.heads[h], b = ref[h];
      assert.deepEqual(a.sampledRows, b.sampledRows);
      assert.deepEqual(a.selectedKeys, b.selectedKeys, `head ${h}: selected keys`);
      assert.equal(a.window, b.window);
      assert.equal(a.density, b.density, `head ${h}: density is exact`);
      for (const f of ['stage1Estimate', 'recallMean', 'recallMin', 'recallP5'] as const) {
        assert.ok(Math.abs(a[f] - b[f]) < TOL, `head ${h}: ${f} ${a[f]} vs ${b[f]}`);
      }
      if (c.withV) assert.ok(Math.abs(a.outputError! - b.outputError!) < TOL, `head ${h}: outputError ${a.outputError} vs ${b.outputError}`);
      else assert.equal(a.outputError, undefined);
    }
    // Spec reference outcome: rowRatio = 1 and alpha = 1 (head 3) keep the full causal mask.
    assert.equal(res.heads[3].density, 1, 'rowRatio 1, alpha 1: density 1');
    assert.ok(Math.abs(res.heads[3].recallMin - 1) < TOL, `rowRatio 1, alpha 1: recall 1 on every row, min ${res.heads[3].recallMin}`);
    if (c.pattern === 'structured') {
      // Sinks carry most of every row's mass: a midpoint alpha below ~0.5 keeps only a few keys.
      assert.ok(res.heads.some((hs) => hs.selectedKeys.length <= x.sinks.length + 2), `structured input: some head should keep few keys, got ${res.heads.map((hs) => hs.selectedKeys.length)}`);
    }

    // Pooled maps against the float64 P and mask, for heads 1..2 on an awkward grid.
    const B = 6, block = Math.ceil(c.S / B);
    const maps = await res.pool({ B, headStart: 1, headCount: 2 });
    for (let hh = 0; hh < 2; hh++) {
      const h = 1 + hh, g = kvHeadOf(h, c.heads, c.kvHeads);
      const w = windowSize(c.S, params[h].windowRatio), set = keySetOf(ref[h].selectedKeys, c.S);
      const mx = new Float64Array(B * B), sm = new Float64Array(B * B), miss = new Float64Array(B * B), kept = new Float64Array(B * B), causal = new Float64Array(B * B);
      for (let i = 0; i < c.S; i++) {
        const p = attentionRow(headView(x.q, h, c.S, c.d), headView(x.k, g, c.S, c.d), c.S, c.d, i);
        for (let j = 0; j <= i; j++) {
          const cell = Math.floor(i / block) * B + Math.floor(j / block);
          mx[cell] = Math.max(mx[cell], p[j]); sm[cell] += p[j]; causal[cell]++;
          if (inMask(i, j, w, set)) kept[cell]++; else miss[cell] += p[j];
        }
      }
      const m = maps[hh];
      assert.equal(m.maxP.rows, B); assert.equal(m.maxP.block, block);
      for (let cell = 0; cell < B * B; cell++) {
        // Sums of up to block^2 = 484 probabilities in f32: 1e-5 absolute.
        assert.ok(Math.abs(m.maxP.values[cell] - mx[cell]) < TOL, `head ${h} cell ${cell}: max P ${m.maxP.values[cell]} vs ${mx[cell]}`);
        assert.ok(Math.abs(m.sumP.values[cell] - sm[cell]) < TOL, `head ${h} cell ${cell}: sum P`);
        assert.ok(Math.abs(m.missedMass.values[cell] - miss[cell]) < TOL, `head ${h} cell ${cell}: missed mass`);
        const frac = causal[cell] ? kept[cell] / causal[cell] : 0;
        assert.ok(Math.abs(m.keptFraction.values[cell] - frac) < 1e-6, `head ${h} cell ${cell}: kept fraction ${m.keptFraction.values[cell]} vs ${frac}`);
      }
    }
    // Tensors stay alive for drawing until dispose.
    const recall = await readTensor(ctx, res.tensors.recall);
    assert.equal(recall.length, c.heads * c.S);
    res.dispose();
    destroyAll(q, k, v);
  });
}

test('runSampleAttention names a bad parameter', async () => {
  const ctx = await gpu();
  const q = uploadTensor(ctx, 'q', [2, 9, 8], new Float32Array(144));
  const k = uploadTensor(ctx, 'k', [1, 9, 8], new Float32Array(72));
  await assert.rejects(runSampleAttention(ctx, { q, k, heads: 2, kvHeads: 1, S: 9, d: 8, params: { alpha: 1.5, rowRatio: 0.1, windowRatio: 0.1 } }), /alpha: 1.5 is outside \(0, 1\]/);
  await assert.rejects(runSampleAttention(ctx, { q, k, heads: 2, kvHeads: 1, S: 9, d: 8, params: [{ alpha: 0.9, rowRatio: 0.1, windowRatio: 0.1 }] }), /1 parameter sets for 2 heads/);
  destroyAll(q, k);
});
