// The `blocks` variant on the tensor-core path (gpu/tensorcore: blocksSparseF16Dispatch,
// blocksStageF16Dispatches) against float64 on the same f16-rounded q, k, v, on awkward sizes
// (S not a multiple of b nor of the 64-row / 32-key tiles, b = 1, b > S / 4, GQA), every output
// NaN-poisoned first; the tiles each query tile visited must equal the f32 kernel's on the same
// kept sets. Skipped, with the reason, where the f16 kernels cannot run (SwiftShader in CI).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked, type GpuContext } from '../../gpu/device';
import { destroyAll, readTensor, readU32, uploadTensor } from '../../gpu/tensor';
import { uploadSampledRows } from '../../gpu/sample/stage1';
import { createBlocksStages, destroyBlocksStages } from '../../gpu/sample/blocks-stages';
import { BLOCKS_BQ, blocksKeyTile, blocksSparseDispatch, createBlocksSparseOutputs, destroyBlocksSparseOutputs, uploadBlocksKept } from '../../gpu/sample/blocks-sparse';
import { BLOCKS_F16_KEY_TILE, blocksSparseF16Dispatch } from '../../gpu/tensorcore/attention';
import { flashWorkgroupBytes } from '../../gpu/tensorcore/flash';
import { blocksStageF16Dispatches } from '../../gpu/tensorcore/blocks-stages';
import type { TensorCoreMode } from '../../gpu/tensorcore/support';
import { headView, kvHeadOf } from '../../src/sampleattention/spec/reference';
import { blocksSampledRows } from '../../src/sampleattention/spec/blocks/params';
import { stripScores } from '../../src/sampleattention/spec/blocks/selection';
import { blocksMask, blocksPredicate } from '../../src/sampleattention/spec/blocks/mask';
import { freshSeed, gpu, rng } from '../helpers/gpu';
import { compareWithinBound, maskedAttention, roundAllF16, tensorCoreModeOrSkip } from '../helpers/tensorcore';
import { selectStripsF32, tilesWithMask } from '../helpers/blocks';
import { attentionInputs } from './sample-inputs';

// Output: maskedAttention's bound, as in tensorcore-attention.test.ts: scores are exact products
// of f16 values summed in f32 (relative ~1e-6), the probabilities are rounded to f16 before P V
// (relative <= 2^-11), so an output element may differ by 2^-11 of sum_j p_ij |v_jc|; the bound is
// twice that plus 1e-6. A single missing or extra (i, j) of weight p moves O_i by ~p |v|: above
// the bound unless p is below ~1e-3 of the row. lse sums f32 exponentials of O(S) terms: 1e-4
// absolute (the f16 kernels' tolerance; |lse| <= ~10 here).
const LSE_TOL = 1e-4;
// Strip scores: each term exp(s_ij - lse_i) carries the errors of s_ij and of the row pass's lse_i.
// Both are sums of exact f16 products accumulated in f32 (on the H200's tensor cores within 1.6e-7
// of sum |x w|, tensorcore-matmul; the emulation ~6e-8), and sum_c |q_c k_c| / sqrt(d) <= ~30
// here: <= 5e-6 absolute each, so <= 1e-5 relative per term; summing <= |R| b positive terms in
// f32 adds <= 1e-5 relative. So |error| <= 3e-5 of the score, plus 1e-6 |R| for f32 noise on
// near-zero strips; a missing or extra term of P_ij >= ~1e-4 |R| breaks it. (The strip sums must round q and k
// exactly as the row pass does: when lavapipe folded f32(f16(x)) away, slash strips were 3e-4 off.)
const SCORE_REL = 3e-5;
const SCORE_FLOOR = 1e-6;
// Stage-1 estimates: the f32 running sum of the kept scores over |R|, as the f32 test argues.
const EST_TOL = 1e-6;

/** Skips (with the reason, never a pass) a head dimension whose kernel needs more workgroup
 * memory than the adapter has (lavapipe's 32 KiB at d = 128 with the emulation's scratch). */
function fitsOrSkip(t: TestContext, ctx: GpuContext, tc: TensorCoreMode, d: number): boolean {
  const need = flashWorkgroupBytes(d, { nsg: 4, bkt: BLOCKS_F16_KEY_TILE }, tc), have = ctx.device.limits.maxComputeWorkgroupStorageSize;
  if (need <= have) return true;
  const why = `skipped: the f16 blocks kernel at d = ${d} needs ${need} bytes of workgroup memory; this adapter offers ${have}`;
  console.log(why);
  t.skip(why);
  return false;
}

type Sets = { cols: number[][]; bands: number[][] };
const KINDS = ['random', 'band 0 only', 'everything', 'no columns', 'columns, band 0', 'sparse'] as const;

/** Kept column blocks and slash bands of each head, cycling through KINDS. */
function keptSets(heads: number, nb: number, r: () => number): Sets & { kinds: string[] } {
  const pick = (p: number) => [...Array(nb).keys()].filter(() => r() < p);
  const withBand0 = (xs: number[]) => [0, ...xs.filter((o) => o > 0)];
  const sets: Sets & { kinds: string[] } = { cols: [], bands: [], kinds: [] };
  for (let h = 0; h < heads; h++) {
    const kind = KINDS[h % KINDS.length];
    const all = [...Array(nb).keys()];
    const [cols, bands] = {
      random: [pick(0.3), withBand0(pick(0.3))],
      'band 0 only': [[], [0]],
      everything: [all, all],
      'no columns': [[], withBand0(pick(0.3))],
      'columns, band 0': [pick(0.3), [0]],
      sparse: [pick(0.05), withBand0(pick(0.05))],
    }[kind];
    sets.cols.push(cols);
    sets.bands.push(bands);
    sets.kinds.push(kind);
  }
  return sets;
}

interface Inputs { q: Float32Array; k: Float32Array; v: Float32Array; qr: Float64Array; kr: Float64Array; vr: Float64Array }

/** Runs the f16 block-sparse pass (and the f32 one for the tile counts) on `kept`, checks out, lse
 * and tiles of every head against float64 on the f16-rounded inputs; returns a summary line. */
async function checkSparse(ctx: GpuContext, tc: TensorCoreMode, shape: { heads: number; kvHeads: number; S: number; d: number }, b: number, x: Inputs, kept: GPUBuffer, sets: Sets, where: string): Promise<string> {
  const { heads, kvHeads, S, d } = shape;
  const scale = 1 / Math.sqrt(d);
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
  const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v);
  const f16 = createBlocksSparseOutputs(ctx, shape); // poisoned
  const f32 = createBlocksSparseOutputs(ctx, shape);
  // The f32 kernel at the f16 kernel's key tile, where the adapter has room for it.
  const sameTile = blocksKeyTile(ctx.device, d) >= BLOCKS_F16_KEY_TILE;
  try {
    await checked(ctx.device, 'f16 blocks sparse', () => run(ctx, [
      blocksSparseF16Dispatch(ctx, tc, shape, q, k, v, b, kept, f16, scale),
      ...(sameTile ? [blocksSparseDispatch(ctx, shape, q, k, v, b, kept, f32, scale, BLOCKS_F16_KEY_TILE)] : []),
    ]));
    const out = await readTensor(ctx, f16.out), lse = await readTensor(ctx, f16.lse);
    const nt = Math.ceil(S / BLOCKS_BQ);
    const tiles = await readU32(ctx, f16.tiles.buffer, heads * nt);
    const tiles32 = sameTile ? await readU32(ctx, f32.tiles.buffer, heads * nt) : undefined;
    let worstOut = 0, worstLse = 0, visited = 0;
    for (let h = 0; h < heads; h++) {
      const g = kvHeadOf(h, heads, kvHeads);
      const keep = blocksPredicate(blocksMask(S, b, sets.cols[h], sets.bands[h]));
      const ref = maskedAttention(headView(x.qr, h, S, d), headView(x.kr, g, S, d), headView(x.vr, g, S, d), S, d, scale, keep);
      worstOut = Math.max(worstOut, compareWithinBound(`${where} head ${h} out`, out, ref.out, ref.bound, () => true, S, d, h * S * d));
      for (let i = 0; i < S; i++) {
        const e = Math.abs(lse[h * S + i] - ref.lse[i]);
        assert.ok(e <= LSE_TOL, `${where} head ${h}: lse[${i}] = ${lse[h * S + i]}, float64 ${ref.lse[i]} (tolerance ${LSE_TOL})`);
        worstLse = Math.max(worstLse, e);
      }
      const got = [...tiles.subarray(h * nt, (h + 1) * nt)];
      assert.deepEqual(got, tilesWithMask(S, BLOCKS_F16_KEY_TILE, keep), `${where} head ${h}: key tiles visited must be exactly those holding entries of M`);
      if (tiles32) assert.deepEqual(got, [...tiles32.subarray(h * nt, (h + 1) * nt)], `${where} head ${h}: tiles visited differ from the f32 kernel's`);
      visited += got.reduce((a, n) => a + n, 0);
    }
    // every key tile of the causal walk, for the summary
    const causal = heads * Array.from({ length: nt }, (_, t) => Math.floor((Math.min((t + 1) * BLOCKS_BQ, S) - 1) / BLOCKS_F16_KEY_TILE) + 1).reduce((a, n) => a + n, 0);
    return `worst out / bound ${worstOut.toFixed(3)}, worst |lse error| ${worstLse.toExponential(2)}, tiles visited ${visited} of ${causal}${sameTile ? ' (= the f32 kernel\'s)' : ' (f32 kernel has no room for 32-key tiles here: checked against the brute-force count only)'}`;
  } finally {
    destroyAll(q, k, v);
    destroyBlocksSparseOutputs(f16);
    destroyBlocksSparseOutputs(f32);
  }
}

function inputs(seed: number, heads: number, kvHeads: number, S: number, d: number, pattern: 'random' | 'structured'): Inputs {
  const x = attentionInputs(seed, heads, kvHeads, S, d, pattern);
  return { q: x.q, k: x.k, v: x.v, qr: roundAllF16(x.q), kr: roundAllF16(x.k), vr: roundAllF16(x.v) };
}

// Host-given kept sets: every kind of KINDS over the heads.
const sparseCases = [
  { heads: 6, kvHeads: 2, S: 203, d: 40, b: 16, pattern: 'random' as const },
  { heads: 3, kvHeads: 1, S: 203, d: 8, b: 1, pattern: 'structured' as const },
  { heads: 6, kvHeads: 2, S: 517, d: 64, b: 48, pattern: 'random' as const },
  { heads: 2, kvHeads: 2, S: 517, d: 128, b: 128, pattern: 'structured' as const },
];

for (const c of sparseCases) {
  const seed = freshSeed();
  const label = `heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, b ${c.b}, ${c.pattern} (SEED=${seed})`;
  test(`f16 block-sparse attention equals float64 on f16 inputs, host-given blocks and bands: ${label}`, async (t) => {
    const ctx = await gpu();
    const tc = tensorCoreModeOrSkip(t, ctx);
    if (!tc || !fitsOrSkip(t, ctx, tc, c.d)) return;
    const { heads, kvHeads, S, d, b } = c;
    const x = inputs(seed, heads, kvHeads, S, d, c.pattern);
    const sets = keptSets(heads, Math.ceil(S / b), rng(seed ^ 0x2545f491));
    const kept = uploadBlocksKept(ctx, S, b, sets.cols, sets.bands);
    try {
      const line = await checkSparse(ctx, tc, { heads, kvHeads, S, d }, b, x, kept, sets, `seed ${seed}`);
      console.log(`${label}, heads ${sets.kinds.join(' / ')}: ${line}`);
    } finally {
      destroyAll(kept);
    }
  });
}

// The whole f16 pipeline: stages on tensor cores -> kept sets on the GPU -> the f16 sparse pass.
const stageCases = [
  { heads: 6, kvHeads: 2, S: 203, d: 40, b: 16, rowRatio: 0.3, pattern: 'structured' as const, alpha: 'random' as const },
  { heads: 2, kvHeads: 1, S: 517, d: 64, b: 128, rowRatio: 0.3, pattern: 'random' as const, alpha: 'random' as const },
  { heads: 2, kvHeads: 1, S: 203, d: 8, b: 48, rowRatio: 1, pattern: 'random' as const, alpha: 1 as const }, // everything with mass kept
];

for (const c of stageCases) {
  const seed = freshSeed();
  const label = `heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, b ${c.b}, rowRatio ${c.rowRatio}, ${c.pattern}, alpha ${c.alpha} (SEED=${seed})`;
  test(`f16 blocks stages 1+2 equal float64 on f16 inputs and feed the f16 sparse pass: ${label}`, async (t) => {
    const ctx = await gpu();
    const tc = tensorCoreModeOrSkip(t, ctx);
    if (!tc || !fitsOrSkip(t, ctx, tc, c.d)) return;
    const { heads, kvHeads, S, d, b } = c;
    const shape = { heads, kvHeads, S, d };
    const x = inputs(seed, heads, kvHeads, S, d, c.pattern);
    const r = rng(seed ^ 0x5bd1e995);
    const alphas = Array.from({ length: heads }, () => (c.alpha === 1 ? { alphaColumn: 1, alphaSlash: 1 } : { alphaColumn: 0.5 + 0.49 * r(), alphaSlash: 0.5 + 0.49 * r() }));
    const rows = blocksSampledRows(S, b, c.rowRatio);
    const R = rows.length;
    const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
    const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
    const sr = uploadSampledRows(ctx, S, Array.from({ length: heads }, () => rows));
    const st = createBlocksStages(ctx, shape, b, alphas, Array(heads).fill(R), sr.nMax); // poisoned
    try {
      await checked(ctx.device, 'f16 blocks stages', () => run(ctx, blocksStageF16Dispatches(ctx, tc, shape, q, k, sr, b, st)));
      const nb = st.nb;
      const strips = await readTensor(ctx, st.strips);
      const kept = await readU32(ctx, st.kept.buffer, 2 * heads * nb);
      const stats = await readU32(ctx, st.stats.buffer, 2 * heads * 2);
      const sets: Sets = { cols: [], bands: [] };
      let worstScore = 0;
      for (let h = 0; h < heads; h++) {
        const g = kvHeadOf(h, heads, kvHeads);
        const where = `seed ${seed} head ${h}`;
        const ref = stripScores(headView(x.qr, h, S, d), headView(x.kr, g, S, d), S, d, b, rows);
        for (const [kind, refScores] of [[0, ref.column], [1, ref.slash]] as const) {
          for (let t = 0; t < nb; t++) {
            const got = strips[(kind * heads + h) * nb + t];
            assert.ok(Number.isFinite(got), `${where} kind ${kind}: strip ${t} is ${got}`);
            const e = Math.abs(got - refScores[t]) / (SCORE_REL * refScores[t] + SCORE_FLOOR * R);
            assert.ok(e <= 1, `${where} kind ${kind}: strip ${t} = ${got}, float64 ${refScores[t]} (${e.toFixed(2)} x tolerance)`);
            worstScore = Math.max(worstScore, e);
          }
        }
        // Stage 2 on the GPU's scores: exactly its f32 replica.
        for (const [kind, alpha, pinned] of [[0, alphas[h].alphaColumn, null], [1, alphas[h].alphaSlash, 0]] as const) {
          const scores = strips.subarray((kind * heads + h) * nb, (kind * heads + h + 1) * nb);
          const want = selectStripsF32(scores, alpha, R, pinned);
          for (let t = 0; t < nb; t++) assert.ok(kept[(kind * heads + h) * nb + t] <= 1, `${where} kind ${kind}: kept flag ${t} was not written`);
          const got = [...Array(nb).keys()].filter((t) => kept[(kind * heads + h) * nb + t] === 1);
          assert.deepEqual(got, want.kept, `${where} kind ${kind}: kept set differs from the f32 replica`);
          assert.equal(stats[(kind * heads + h) * 2], want.count, `${where} kind ${kind}: count`);
          const est = new Float32Array(new Uint32Array([stats[(kind * heads + h) * 2 + 1]]).buffer)[0];
          assert.ok(Math.abs(est - want.estimate) <= EST_TOL, `${where} kind ${kind}: estimate ${est} vs ${want.estimate}`);
          (kind === 0 ? sets.cols : sets.bands).push(got);
        }
        assert.ok(sets.bands[h].includes(0), `${where}: band 0 kept`);
      }
      const line = await checkSparse(ctx, tc, shape, b, x, st.kept.buffer, sets, `seed ${seed}`);
      const kinds = sets.cols.map((cs, h) => `${cs.length}/${nb} blocks + ${sets.bands[h].length} bands`);
      console.log(`${label}: strips worst ${worstScore.toFixed(3)} x tolerance; kept ${kinds.join(', ')}; ${line}`);
    } finally {
      destroyAll(q, k, sr.rows, sr.nRows);
      destroyBlocksStages(st);
    }
  });
}
