import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { createTensor, destroyAll, readTensor, uploadTensor } from '../../gpu/tensor';
import { createDenseOutputs, destroyDenseOutputs } from '../../gpu/attention/flash';
import { createSparseOutputs, destroyKeySets, destroySparseOutputs, uploadKeySets } from '../../gpu/sample/sparse';
import { createStage1Outputs, destroyStage1, ROW_SPLITS_MAX, uploadSampledRows } from '../../gpu/sample/stage1';
import { flashF16Dispatch, sparseF16Dispatch, stage1F16Dispatches, type AttendKernel } from '../../gpu/tensorcore/attention';
import { flashShape, flashShapeName, flashUnfit, type FlashShape } from '../../gpu/tensorcore/flash';
import { kvHalves } from '../../gpu/tensorcore/convert';
import type { GpuContext } from '../../gpu/device';
import type { TensorCoreMode } from '../../gpu/tensorcore/support';
import { headView, kvHeadOf, sampledRows } from '../../src/sampleattention/spec/reference';
import { freshSeed, gpu, rng } from '../helpers/gpu';
import { compareWithinBound, maskedAttention, roundAllF16, tensorCoreModeOrSkip } from '../helpers/tensorcore';
import { attentionInputs } from './sample-inputs';

// Against float64 on the same f16-rounded q, k, v: scores are exact products summed in f32
// (relative ~1e-6), the probabilities are rounded to f16 before P V (relative <= 2^-11), so each
// output element may differ by 2^-11 of sum_j p_ij |v_jc|; the bound allows twice that plus 1e-6.
// lse sums f32 exponentials of O(S) terms: 1e-4 absolute. Column scores: 1e-4 relative + 1e-5.
const LSE_TOL = 1e-4;

const cases = [
  { heads: 3, kvHeads: 1, S: 77, d: 40, pattern: 'random' as const },
  { heads: 2, kvHeads: 2, S: 150, d: 64, pattern: 'structured' as const },
  { heads: 2, kvHeads: 1, S: 45, d: 128, pattern: 'random' as const },
  { heads: 1, kvHeads: 1, S: 1, d: 8, pattern: 'random' as const },
  // Many key tiles (the pipelined kernel's prefetch and rescale across tiles), the default model's d.
  { heads: 4, kvHeads: 2, S: 333, d: 32, pattern: 'structured' as const },
];

/** Every attend kernel shape this adapter can run at d, its default first; what does not fit is
 * named (lavapipe's 32 KiB of workgroup memory holds no d = 128 kernel beside the emulation's
 * scratch). */
type KernelRun = { name: string; k: AttendKernel; kv16?: boolean };
function kernelsFor(ctx: GpuContext, tc: TensorCoreMode, d: number): { run: KernelRun[]; unfit: string[] } {
  const run: KernelRun[] = [], unfit: string[] = [];
  let def: FlashShape | undefined;
  try { def = flashShape(ctx, d, 'dense', tc); } catch { /* no shape fits: listed below */ }
  if (def) run.push({ name: `${flashShapeName(def)} (default)`, k: {} });
  // q, K and V given as f16 (kvHalves, as the selection plan and the bench give them): read as they are.
  if (def) run.push({ name: `${flashShapeName(def)} (default), f16 q / K / V`, k: {}, kv16: true });
  // Stage 1's row pass split over key ranges (the default splits only from S = 64 key tiles up):
  // 3 ranges, and the most, where short rows leave whole ranges without keys.
  if (def) for (const rowSplits of [3, ROW_SPLITS_MAX]) run.push({ name: `${flashShapeName(def)}, ${rowSplits} key ranges`, k: { rowSplits } });
  for (const [nsg, bkt] of [[4, 64], [8, 32], [4, 32]] as const) {
    const shape: FlashShape = { nsg, bkt };
    if (def && flashShapeName(shape) === flashShapeName(def)) continue;
    const why = flashUnfit(ctx, d, shape, tc);
    if (why) unfit.push(`${flashShapeName(shape)}: ${why}`);
    else run.push({ name: flashShapeName(shape), k: { shape } });
  }
  return { run, unfit };
}

for (const c of cases) {
  const seed = freshSeed();
  const label = `heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, ${c.pattern} (SEED=${seed})`;
  test(`f16 tensor-core attention (dense, sparse, stage 1) equals float64 on f16 inputs: ${label}`, async (t) => {
    const ctx = await gpu();
    const tc = tensorCoreModeOrSkip(t, ctx);
    if (!tc) return;
    const { heads, kvHeads, S, d } = c;
    const shape = { heads, kvHeads, S, d };
    const scale = 1 / Math.sqrt(d);
    const x = attentionInputs(seed, heads, kvHeads, S, d, c.pattern);
    const qr = roundAllF16(x.q), kr = roundAllF16(x.k), vr = roundAllF16(x.v);
    const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
    const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
    const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v);
    const r = rng(seed ^ 0x5bd1e995);
    const keys = Array.from({ length: heads }, () => Array.from({ length: S }, (_, j) => j).filter(() => r() < 0.3));
    const windows = Array.from({ length: heads }, (_, h) => [0, 1, Math.ceil(0.1 * S), S][h % 4]);
    const ks = uploadKeySets(ctx, S, keys, windows);
    const rowsPerHead = Array.from({ length: heads }, (_, h) => sampledRows(S, [0.1, 0.25, 1][h % 3]));
    const sr = uploadSampledRows(ctx, S, rowsPerHead);
    const kernels = kernelsFor(ctx, tc, d);
    for (const u of kernels.unfit) console.log(`skipped: ${u}`);
    if (kernels.run.length === 0) {
      destroyAll(q, k, v);
      destroyKeySets(ks);
      destroyAll(sr.rows, sr.nRows);
      t.skip(`skipped: no f16 attention kernel fits d = ${d} on this adapter (${kernels.unfit.join('; ')})`);
      return;
    }
    for (const kern of kernels.run) {
      const dense = createDenseOutputs(ctx, shape);
      const sparse = createSparseOutputs(ctx, shape, true);
      const lseOnly = createSparseOutputs(ctx, shape, false); // the pass without v (tune, captures without v)
      const s1 = createStage1Outputs(ctx, shape, sr.nMax);
      const kv16 = kern.kv16 ? kvHalves(ctx, k, v, q) : undefined;
      const qq = kv16?.q ?? q, kk = kv16?.k ?? k, vv = kv16?.v ?? v;
      try {
        await checked(ctx.device, `f16 attention, ${kern.name}`, () => run(ctx, [
          ...(kv16?.dispatches ?? []),
          flashF16Dispatch(ctx, tc, shape, qq, kk, vv, dense, scale, kern.k),
          sparseF16Dispatch(ctx, tc, shape, qq, kk, vv, ks, sparse, scale, kern.k),
          sparseF16Dispatch(ctx, tc, shape, qq, kk, undefined, ks, lseOnly, scale, kern.k),
          ...stage1F16Dispatches(ctx, tc, shape, qq, kk, sr, s1, scale, kern.k),
        ]));
        const dOut = await readTensor(ctx, dense.out), dLse = await readTensor(ctx, dense.lse);
        const sOut = await readTensor(ctx, sparse.out!), sLse = await readTensor(ctx, sparse.lse);
        const oLse = await readTensor(ctx, lseOnly.lse);
        const rowLse = await readTensor(ctx, s1.rowLse), scores = await readTensor(ctx, s1.scores);
        let worstDense = 0, worstSparse = 0, worstLse = 0, worstScore = 0;
        for (let h = 0; h < heads; h++) {
          const g = kvHeadOf(h, heads, kvHeads);
          const hq = headView(qr, h, S, d), hk = headView(kr, g, S, d), hv = headView(vr, g, S, d);
          const ref = maskedAttention(hq, hk, hv, S, d, scale, () => true);
          worstDense = Math.max(worstDense, compareWithinBound(`${kern.name}: dense head ${h}`, dOut, ref.out, ref.bound, () => true, S, d, h * S * d));
          const set = new Set(keys[h]);
          const W = Math.max(windows[h], 1);
          const sref = maskedAttention(hq, hk, hv, S, d, scale, (i, j) => i - j < W || set.has(j));
          worstSparse = Math.max(worstSparse, compareWithinBound(`${kern.name}: sparse head ${h}`, sOut, sref.out, sref.bound, () => true, S, d, h * S * d));
          for (let i = 0; i < S; i++) {
            worstLse = Math.max(worstLse, Math.abs(dLse[h * S + i] - ref.lse[i]), Math.abs(sLse[h * S + i] - sref.lse[i]), Math.abs(oLse[h * S + i] - sref.lse[i]));
          }
          // Stage 1: the sampled rows' lse and c_j = sum over sampled rows of P_ij.
          const cj = new Float64Array(S);
          rowsPerHead[h].forEach((i, slot) => {
            worstLse = Math.max(worstLse, Math.abs(rowLse[h * sr.nMax + slot] - ref.lse[i]));
            for (let j = 0; j <= i; j++) {
              let dot = 0;
              for (let cc = 0; cc < d; cc++) dot += hq[i * d + cc] * hk[j * d + cc];
              cj[j] += Math.exp(scale * dot - ref.lse[i]);
            }
          });
          for (let j = 0; j < S; j++) {
            const gv = scores[h * S + j];
            assert.ok(Number.isFinite(gv), `${kern.name}: stage 1 head ${h}: c_${j} is ${gv}`);
            const e = Math.abs(gv - cj[j]) / (1e-4 * cj[j] + 1e-5);
            worstScore = Math.max(worstScore, e);
          }
        }
        console.log(`${kern.name}: worst / bound: dense ${worstDense.toFixed(3)}, sparse ${worstSparse.toFixed(3)}, column scores ${worstScore.toFixed(3)}; worst |lse error| ${worstLse.toExponential(2)} (tolerance ${LSE_TOL})`);
        assert.ok(worstLse <= LSE_TOL, `${kern.name}: lse error ${worstLse} above ${LSE_TOL}`);
        assert.ok(worstScore <= 1, `${kern.name}: column scores: worst error ${worstScore} x tolerance`);
      } finally {
        destroyDenseOutputs(dense);
        destroySparseOutputs(sparse);
        destroySparseOutputs(lseOnly);
        destroyStage1(s1);
        destroyAll(kv16?.k, kv16?.v, kv16?.q);
      }
    }
    destroyAll(q, k, v);
    destroyKeySets(ks);
    destroyAll(sr.rows, sr.nRows);
  });
}
