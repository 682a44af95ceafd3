// A layer whose heads use different SampleAttention variants (tokens, blocks of two block sizes)
// through the GPU run (runSampleAttention: each group of heads on its own kernels, gathered and
// scattered) and the measure-free prefill (sampleAttentionPrefill), against the float64 reference
// of each head's variant (spec/setting-reference.ts): the same rows, keys, blocks and bands, exact
// densities and mask planes, measures, the sparse output and lse of every head written into the
// layer's (NaN-poisoned) tensors, pooled maps on the true mask, and the prefill's output bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destroyAll, readTensor, readU32, uploadTensor, createTensor } from '../../gpu/tensor';
import { runSampleAttention } from '../../src/sampleattention/gpu-run/layer-run';
import { sampleAttentionPrefill } from '../../src/sampleattention/gpu-run/prefill-attention';
import { attentionRow, headView, kvHeadOf, sampledRows, columnScores, selectKeys, scoreRow } from '../../src/sampleattention/spec/reference';
import { sparseAttentionWhere } from '../../src/sampleattention/spec/attention';
import { blocksSampledRows } from '../../src/sampleattention/spec/blocks/params';
import { selectStrips, stripScores } from '../../src/sampleattention/spec/blocks/selection';
import { selectAllSettings } from '../../src/sampleattention/spec/setting-reference';
import { diagCumulative, planesPredicate, resultPlanes } from '../../src/sampleattention/spec/mask-planes';
import type { HeadSetting } from '../../src/sampleattention/spec/setting';
import { poolViewportReference } from '../../src/engine/pool-cpu';
import { poolGrid, POOL_PLANES } from '../../gpu/sample/pool';
import { freshSeed, gpu, relError, rng } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';

// Recall, its P5 and the output error: 1e-5 absolute (f32 log-sum-exps and norms, as
// sample-engine.test.ts). Stage-1 estimates: tokens 1e-5 (f32 running sum, sample-engine); blocks
// 3e-5 (strip scores carry up to 2e-5 relative error, sample-blocks.test.ts, and an estimate <= 1).
// Sparse output 2e-5 relative and lse 1e-5 absolute (sample-blocks.test.ts: one missing or extra
// entry moves them by > 1e-3). Pooled sums 1e-5 absolute, kept fraction 1e-6 (sample-pool.test.ts).
// Densities and mask planes are exact integers.
const TOL = 1e-5;
const BLOCKS_EST_TOL = 3e-5;
const OUT_TOL = 2e-5;

/** A share halfway between two running sums of the float64 order (no f32 tie at the threshold). */
function midpoint(scores: Float64Array, order: readonly number[], rowCount: number, r: () => number, first: number): number {
  let t = first + Math.floor(r() * Math.min(order.length - first - 1, 6));
  while (t > first && scores[order[t]] < 0.05 * rowCount) t--;
  if (t < 1) return 1; // nothing to choose between: keep every index with mass
  let lo = 0;
  for (let u = 0; u < t; u++) lo += scores[order[u]];
  const total = scores.reduce((a, b) => a + b, 0);
  return (lo + scores[order[t]] / 2) / total;
}

type Spec = { variant: 'tokens'; rowRatio: number; windowRatio: number } | { variant: 'blocks'; blockSize: number; rowRatio: number };
interface Case { heads: number; kvHeads: number; S: number; d: number; withV: boolean; specs: Spec[] }
const cases: Case[] = [
  { // GQA 3:1 and groups that split every kv group: each head gets its own kv copy
    heads: 6, kvHeads: 2, S: 203, d: 24, withV: true,
    specs: [
      { variant: 'tokens', rowRatio: 0.1, windowRatio: 0.05 }, { variant: 'blocks', blockSize: 16, rowRatio: 0.1 }, { variant: 'blocks', blockSize: 32, rowRatio: 0.2 },
      { variant: 'tokens', rowRatio: 0.3, windowRatio: 0 }, { variant: 'blocks', blockSize: 16, rowRatio: 0.05 }, { variant: 'blocks', blockSize: 32, rowRatio: 0.05 },
    ],
  },
  { // groups of whole kv groups (kv heads copied once), no v: the log-sum-exp only
    heads: 4, kvHeads: 2, S: 131, d: 16, withV: false,
    specs: [{ variant: 'tokens', rowRatio: 0.1, windowRatio: 0.1 }, { variant: 'tokens', rowRatio: 0.05, windowRatio: 0.02 }, { variant: 'blocks', blockSize: 16, rowRatio: 0.2 }, { variant: 'blocks', blockSize: 16, rowRatio: 0.1 }],
  },
  { // every head blocks of one size: the layer's own tensors, no gather
    heads: 3, kvHeads: 1, S: 77, d: 8, withV: true,
    specs: [{ variant: 'blocks', blockSize: 32, rowRatio: 0.3 }, { variant: 'blocks', blockSize: 32, rowRatio: 1 }, { variant: 'blocks', blockSize: 32, rowRatio: 0.05 }],
  },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`mixed variants in one layer match each head's float64 reference: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, v ${c.withV}, ${c.specs.map((s) => (s.variant === 'blocks' ? `b${s.blockSize}` : 'tokens')).join(' ')} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const { heads, kvHeads, S, d } = c;
    const x = attentionInputs(seed, heads, kvHeads, S, d, 'random');
    const r = rng(seed ^ 0x5bd1e995);
    const view = (h: number) => [headView(x.q, h, S, d), headView(x.k, kvHeadOf(h, heads, kvHeads), S, d), headView(x.v, kvHeadOf(h, heads, kvHeads), S, d)] as const;
    // Thresholds halfway between two of the reference's running sums, so f32 picks the same sets.
    const settings: HeadSetting[] = c.specs.map((s, h) => {
      const [qh, kh] = view(h);
      if (s.variant === 'tokens') {
        const rows = sampledRows(S, s.rowRatio);
        const sc = columnScores(qh, kh, S, d, rows);
        return { variant: 'tokens', alpha: midpoint(sc, selectKeys(sc, 1, rows.length).order, 1, r, 1), rowRatio: s.rowRatio, windowRatio: s.windowRatio };
      }
      const rows = blocksSampledRows(S, s.blockSize, s.rowRatio);
      const st = stripScores(qh, kh, S, d, s.blockSize, rows);
      return {
        variant: 'blocks', blockSize: s.blockSize, rowRatio: s.rowRatio,
        alphaColumn: midpoint(st.column, selectStrips(st.column, 1, rows.length).order, rows.length, r, 1),
        alphaSlash: midpoint(st.slash, selectStrips(st.slash, 1, rows.length, 0).order, rows.length, r, 1),
      };
    });
    const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
    const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
    const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v);
    const res = await runSampleAttention(ctx, { q, k, v: c.withV ? v : undefined, heads, kvHeads, S, d, params: settings });
    const ref = selectAllSettings(x.q, x.k, heads, kvHeads, S, d, settings, { v: c.withV ? x.v : undefined });
    const col = await readU32(ctx, res.tensors.colMask.buffer, heads * S);
    const diagCum = await readU32(ctx, res.tensors.diagCum.buffer, heads * S);
    const scores = await readTensor(ctx, res.tensors.scores);
    const lse = await readTensor(ctx, res.tensors.sparse.lse);
    const out = c.withV ? await readTensor(ctx, res.tensors.sparse.out!) : null;
    for (let h = 0; h < heads; h++) {
      const a = res.heads[h], b = ref[h], where = `seed ${seed} head ${h} (${b.variant})`;
      assert.equal(a.variant, b.variant, where);
      assert.deepEqual(a.sampledRows, b.sampledRows, `${where}: sampled rows`);
      if (a.variant === 'tokens' && b.variant === 'tokens') {
        assert.deepEqual(a.selectedKeys, b.selectedKeys, `${where}: keys`);
        assert.equal(a.window, b.window);
        assert.ok(Math.abs(a.stage1Estimate - b.stage1Estimate) < TOL, `${where}: stage-1 estimate ${a.stage1Estimate} vs ${b.stage1Estimate}`);
      } else if (a.variant === 'blocks' && b.variant === 'blocks') {
        assert.equal(a.blockSize, b.blockSize);
        assert.deepEqual(a.columnBlocks, b.columnBlocks, `${where}: column blocks`);
        assert.deepEqual(a.slashBands, b.slashBands, `${where}: slash bands`);
        assert.ok(Math.abs(a.stage1ColumnEstimate - b.stage1ColumnEstimate) < BLOCKS_EST_TOL && Math.abs(a.stage1SlashEstimate - b.stage1SlashEstimate) < BLOCKS_EST_TOL, `${where}: estimates ${a.stage1ColumnEstimate}/${a.stage1SlashEstimate} vs ${b.stage1ColumnEstimate}/${b.stage1SlashEstimate}`);
      }
      assert.equal(a.density, b.density, `${where}: density is exact`);
      for (const f of ['recallMean', 'recallMin', 'recallP5'] as const) assert.ok(Math.abs(a[f] - b[f]) < TOL, `${where}: ${f} ${a[f]} vs ${b[f]}`);
      if (c.withV) assert.ok(Math.abs(a.outputError! - b.outputError!) < TOL, `${where}: outputError ${a.outputError} vs ${b.outputError}`);
      else assert.equal(a.outputError, undefined);
      // The mask planes are the reference's, entry for entry; the drawing scores are all written.
      const planes = resultPlanes(b, S);
      assert.deepEqual(Array.from(col.subarray(h * S, (h + 1) * S)), Array.from(planes.col), `${where}: col plane`);
      assert.deepEqual(Array.from(diagCum.subarray(h * S, (h + 1) * S)), Array.from(diagCumulative(planes.diag)), `${where}: diagCum plane`);
      assert.ok(scores.subarray(h * S, (h + 1) * S).every(Number.isFinite), `${where}: scores written`);
      // Sparse lse (and output) of this head in the layer's tensors.
      const [qh, kh, vh] = view(h);
      const keep = planesPredicate(planes);
      for (let i = 0; i < S; i++) {
        const s = scoreRow(qh, kh, d, i, 1 / Math.sqrt(d));
        let m = -Infinity, z = 0;
        for (let j = 0; j <= i; j++) if (keep(i, j)) m = Math.max(m, s[j]);
        for (let j = 0; j <= i; j++) if (keep(i, j)) z += Math.exp(s[j] - m);
        const want = m + Math.log(z), got = lse[h * S + i];
        if (!(Math.abs(got - want) <= TOL)) assert.fail(`${where} row ${i}: sparse lse ${got} vs ${want}`);
      }
      if (out) {
        const e = relError(out.subarray(h * S * d, (h + 1) * S * d), sparseAttentionWhere(qh, kh, vh, S, d, keep));
        assert.ok(e <= OUT_TOL, `${where}: sparse output relative error ${e}`);
      }
    }

    // Pooled maps of every head on its own mask (blocks heads included), an awkward grid.
    const B = 7, grid = poolGrid(S, B);
    const maps = await res.pool({ B, headStart: 0, headCount: heads });
    for (let h = 0; h < heads; h++) {
      const [qh, kh] = view(h);
      const want = poolViewportReference((i) => attentionRow(qh, kh, S, d, i), planesPredicate(resultPlanes(ref[h], S)), grid);
      POOL_PLANES.forEach((name, pl) => {
        const got = maps[h][name].values, tol = name === 'keptFraction' ? 1e-6 : TOL;
        for (let cell = 0; cell < got.length; cell++) {
          if (!(Math.abs(got[cell] - want[pl][cell]) <= tol)) assert.fail(`seed ${seed} head ${h} ${name} cell ${cell}: ${got[cell]} vs ${want[pl][cell]}`);
        }
      });
    }

    if (c.withV) {
      // The measure-free prefill runs the same kernels in the same order: the same bits.
      const pre = sampleAttentionPrefill(ctx, { heads, kvHeads, headDim: d }, [settings]);
      const o = createTensor(ctx, 'prefill out', [heads, S, d], true); // (heads, S, d) f32, NaN-poisoned
      const enc = ctx.device.createCommandEncoder();
      await pre.attention(ctx, 0, q, k, v, o, enc);
      ctx.device.queue.submit([enc.finish()]);
      const got = await readTensor(ctx, o);
      pre.release();
      assert.deepEqual(Array.from(got), Array.from(out!), `seed ${seed}: prefill output equals the measured run's`);
      destroyAll(o);
    }
    res.dispose();
    destroyAll(q, k, v);
  });
}
