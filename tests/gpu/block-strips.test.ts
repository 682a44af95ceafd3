// The head view's strip scores of a blocks head (src/engine/block-strips.ts): C_J and D_o of one
// head from the run's stage kernels, against the float64 reference (spec/blocks/selection.ts
// stripScores), on awkward sizes (S not a multiple of b; S < b), and the same blocks and bands
// kept as the layer run keeps for that head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uploadTensor, destroyAll } from '../../gpu/tensor';
import { blockStrips } from '../../src/engine/block-strips';
import { runSampleAttention } from '../../src/sampleattention/gpu-run/layer-run';
import { blocksSampledRows } from '../../src/sampleattention/spec/blocks/params';
import { selectStrips, stripScores } from '../../src/sampleattention/spec/blocks/selection';
import { freshSeed, gpu, maxAbsError } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';

// The same kernels and the same bound as tests/gpu/sample-blocks.test.ts (argued there): each
// score within 2e-5 |R| of float64.
const SCORE_TOL = 2e-5;

for (const c of [{ S: 93, d: 16, b: 16, rowRatio: 0.3 }, { S: 40, d: 8, b: 64, rowRatio: 0.05 }]) {
  test(`block strips: S ${c.S}, b ${c.b}: C_J and D_o are the reference's; the run keeps what they select`, async () => {
    const ctx = await gpu();
    const seed = freshSeed();
    const x = attentionInputs(seed, 1, 1, c.S, c.d, 'structured');
    const q = uploadTensor(ctx, 'q', [1, c.S, c.d], x.q); // (1, S, d) f32
    const k = uploadTensor(ctx, 'k', [1, c.S, c.d], x.k); // (1, S, d) f32
    const p = { blockSize: c.b, alphaColumn: 0.9, alphaSlash: 0.8, rowRatio: c.rowRatio };
    try {
      const got = await blockStrips(ctx, q, k, c.S, c.d, p);
      const rows = blocksSampledRows(c.S, c.b, c.rowRatio);
      const ref = stripScores(x.q, x.k, c.S, c.d, c.b, rows);
      const R = rows.length;
      assert.equal(got.column.length, Math.ceil(c.S / c.b));
      assert.ok(maxAbsError(got.column, ref.column) <= SCORE_TOL * R, `seed ${seed}: C_J error ${maxAbsError(got.column, ref.column)}`);
      assert.ok(maxAbsError(got.slash, ref.slash) <= SCORE_TOL * R, `seed ${seed}: D_o error ${maxAbsError(got.slash, ref.slash)}`);
      // The run's kept blocks and bands for this head are the ones the reference's scores select,
      // unless the f32 scores may order or cut differently: two scores, or the running sum and
      // the threshold, within tolerance of each other (then the seed is only reported).
      const run = await runSampleAttention(ctx, { q, k, heads: 1, kvHeads: 1, S: c.S, d: c.d, params: [{ variant: 'blocks', ...p }] });
      const h = run.heads[0];
      run.dispose();
      assert.equal(h.variant, 'blocks');
      if (h.variant !== 'blocks') return;
      const tol = 2 * SCORE_TOL * R * got.column.length;
      for (const [name, scores, alpha, pinned, kept] of [['column blocks', ref.column, p.alphaColumn, null, h.columnBlocks], ['slash bands', ref.slash, p.alphaSlash, 0, h.slashBands]] as const) {
        const want = selectStrips(scores, alpha, R, pinned);
        let sum = 0;
        const close = want.order.some((t, u) => {
          sum += scores[t];
          return Math.abs(sum - alpha * R) <= tol || (u > 0 && Math.abs(scores[want.order[u - 1]] - scores[t]) <= tol);
        });
        if (close) console.log(`seed ${seed}: ${name} near a tie, selection not compared`);
        else assert.deepEqual(kept, want.kept, `seed ${seed}: ${name}`);
      }
    } finally {
      destroyAll(q, k);
    }
  });
}
