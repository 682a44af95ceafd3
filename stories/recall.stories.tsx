// Kernels/Recall: SampleAttention's measures per head (gpu/sample/measures.ts): row recall
// R_i = exp(lse_sparse - lse_dense), its mean and minimum, the mask's density and the output
// error, against rowRecall / density / outputError (src/sampleattention/spec/reference.ts). Its inputs (both
// log-sum-exps and both outputs) are the float64 reference's rounded to f32, so the kernel runs alone.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createMeasureOutputs, destroyMeasureOutputs, measuresDispatch, readMeasures } from '../gpu/sample/measures';
import { destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import { destroyMaskPlanes, uploadMaskPlanes } from '../gpu/sample/mask-planes';
import { layerPlaneArrays, tokensPlanes } from '../src/sampleattention/spec/mask-planes';
import { defaultScale, denseAttention, density, headView, inMask, keySetOf, kvHeadOf, outputError, rowRecall, scoreRow, sparseAttention, windowSize } from '../src/sampleattention/spec/reference';
import { KernelStory, type MakeRun } from './kernel-harness';
import { ATTENTION_ARGS, attentionArgTypes, windowRatioArg, type AttentionArgs } from './attention-args';
import { attentionInputs, keysFor, logSumExp, maskMap, maxAbsError } from './kernel-inputs';

// Recall is exp of a difference of two f32 lse values (~1e-6 absolute each at |lse| <= ~10):
// 1e-5 absolute, for each row, the mean and the minimum; the output error is a ratio of f32
// norms: 1e-5; density is a count over S(S+1)/2 done exactly on both sides: 0
// (tests/gpu/sample-sparse.test.ts).
const TOL = 1e-5;

/** |a - b|, Infinity when the GPU value is not finite (NaN never passes). */
const absErr = (a: number | undefined, b: number) => (a !== undefined && Number.isFinite(a) ? Math.abs(a - b) : Infinity);

interface RecallArgs extends AttentionArgs { windowRatio: number }

const make: MakeRun<RecallArgs> = (ctx, a) => {
  const { heads, kvHeads, S, d } = a;
  const x = attentionInputs(a.seed, heads, kvHeads, S, d, a.pattern);
  const keys = keysFor(a.seed, heads, S, x, a.pattern);
  const w = windowSize(S, a.windowRatio);
  const host = { lseD: new Float32Array(heads * S), lseS: new Float32Array(heads * S), outD: new Float32Array(heads * S * d), outS: new Float32Array(heads * S * d) };
  const view = (h: number) => {
    const g = kvHeadOf(h, heads, kvHeads);
    return [headView(x.q, h, S, d), headView(x.k, g, S, d), headView(x.v, g, S, d)] as const;
  };
  for (let h = 0; h < heads; h++) {
    const [qh, kh, vh] = view(h);
    const set = keySetOf(keys[h], S);
    const dense = denseAttention(qh, kh, vh, S, d);
    host.lseD.set(dense.lse, h * S);
    host.outD.set(dense.out, h * S * d);
    host.outS.set(sparseAttention(qh, kh, vh, S, d, w, set), h * S * d);
    for (let i = 0; i < S; i++) host.lseS[h * S + i] = logSumExp(scoreRow(qh, kh, d, i, defaultScale(d)), (j) => inMask(i, j, w, set));
  }
  const lseDense = uploadTensor(ctx, 'dense lse', [heads, S], host.lseD); // (heads, S) f32
  const lseSparse = uploadTensor(ctx, 'sparse lse', [heads, S], host.lseS); // (heads, S) f32
  const outDense = uploadTensor(ctx, 'dense out', [heads, S, d], host.outD); // (heads, S, d) f32
  const outSparse = uploadTensor(ctx, 'sparse out', [heads, S, d], host.outS); // (heads, S, d) f32
  const pa = layerPlaneArrays(keys.map((kk) => tokensPlanes(keySetOf(kk, S), w)));
  const planes = uploadMaskPlanes(ctx, heads, S, pa.col, pa.diagCum); // (heads, S) u32 each: the mask planes
  const o = createMeasureOutputs(ctx, heads, S, true); // recall (heads, S) f32, stats (heads, 5), NaN-poisoned
  return {
    title: `measures, heads ${heads}, S ${S}, d ${d}: window ${w}, ${keys[0].length} kept keys (head 0)`,
    dispatches: [measuresDispatch(ctx, { heads, S, d, lseDense, lseSparse, col: planes.col.buffer, diagCum: planes.diagCum.buffer, outDense, outSparse }, o)],
    inputs: [
      { kind: 'map', title: 'mask M, head 0', values: maskMap(S, w, keys[0]), rows: S, cols: S, gamma: 1 },
      { kind: 'bars', title: 'lse dense - lse sparse by row, head 0', values: host.lseD.subarray(0, S).map((v, i) => v - host.lseS[i]) },
    ],
    reference: () =>
      Array.from({ length: heads }, (_, h) => {
        const [qh, kh, vh] = view(h);
        const set = keySetOf(keys[h], S);
        const recall = rowRecall(qh, kh, S, d, w, set);
        return { recall, mean: recall.reduce((s, r) => s + r, 0) / S, min: Math.min(...recall), density: density(S, w, set), outputError: outputError(qh, kh, vh, S, d, w, set) };
      }),
    async compare(ref) {
      const want = ref as { recall: Float64Array; mean: number; min: number; density: number; outputError: number }[];
      const recall = await readTensor(ctx, o.recall);
      const m = await readMeasures(ctx, o, heads, S, true);
      const e = { row: 0, mean: 0, min: 0, density: 0, out: 0 };
      want.forEach((r, h) => {
        e.row = Math.max(e.row, maxAbsError(recall.subarray(h * S, (h + 1) * S), r.recall));
        e.mean = Math.max(e.mean, absErr(m[h].recallMean, r.mean));
        e.min = Math.max(e.min, absErr(m[h].recallMin, r.min));
        e.density = Math.max(e.density, absErr(m[h].density, r.density));
        e.out = Math.max(e.out, absErr(m[h].outputError, r.outputError));
      });
      return {
        checks: [
          { what: 'row recall max abs error', error: e.row, tolerance: TOL, why: 'exp of an f32 lse difference' },
          { what: 'recall mean abs error', error: e.mean, tolerance: TOL, why: 'as the rows' },
          { what: 'recall min abs error', error: e.min, tolerance: TOL, why: 'as the rows' },
          { what: 'density abs error', error: e.density, tolerance: 0, why: 'exact count' },
          { what: 'output error abs error', error: e.out, tolerance: TOL, why: 'ratio of f32 norms' },
        ],
        outputs: [
          { kind: 'bars', title: `row recall R_i, head 0: mean ${m[0].recallMean.toFixed(4)}, min ${m[0].recallMin.toFixed(4)}, density ${(100 * m[0].density).toFixed(1)}%`, values: recall.subarray(0, S) },
        ],
      };
    },
    dispose: () => {
      destroyAll(lseDense, lseSparse, outDense, outSparse);
      destroyMaskPlanes(planes);
      destroyMeasureOutputs(o);
    },
  };
};

const meta = {
  title: 'Kernels/Recall',
  args: { ...ATTENTION_ARGS, windowRatio: 0.1 },
  argTypes: { ...attentionArgTypes, windowRatio: windowRatioArg },
  render: (args: RecallArgs) => <KernelStory name="Recall, density and output error" args={args} make={make} />,
} satisfies Meta<RecallArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
