// Kernels/Stage 1: SampleAttention's sampled rows' log-sum-exp and the column scores
// c_j = sum over sampled rows i of P_ij (gpu/sample/stage1.ts), against columnScores
// (src/sampleattention/spec/reference.ts) and the float64 log-sum-exp of each sampled row.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createStage1Outputs, destroyStage1, stage1Dispatches, uploadSampledRows } from '../gpu/sample/stage1';
import { destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import { attentionRow, columnScores, defaultScale, headView, kvHeadOf, sampledRows, scoreRow } from '../src/sampleattention/spec/reference';
import { KernelStory, type MakeRun } from './kernel-harness';
import { ATTENTION_ARGS, attentionArgTypes, shapeOf, type AttentionArgs } from './attention-args';
import { attentionInputs, logSumExp, maxAbsError, probabilityMap } from './kernel-inputs';

// Each c_j sums <= n softmax probabilities with ~1e-7 relative f32 error: 1e-5 absolute
// (tests/gpu/sample-stages.test.ts). Row lse: 1e-5 absolute, as for the dense kernel.
const SCORE_TOL = 1e-5;
const LSE_TOL = 1e-5;

interface Stage1Args extends AttentionArgs { rowRatio: number }

const make: MakeRun<Stage1Args> = (ctx, a) => {
  const { heads, kvHeads, S, d } = a;
  const s = shapeOf(a);
  const x = attentionInputs(a.seed, heads, kvHeads, S, d, a.pattern);
  const rows = sampledRows(S, a.rowRatio);
  const n = rows.length;
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const sr = uploadSampledRows(ctx, S, Array.from({ length: heads }, () => rows)); // (heads, nMax) u32 rows, (heads) u32 counts
  const o = createStage1Outputs(ctx, s, sr.nMax); // rowLse (heads, nMax), scores (heads, S) f32, NaN-poisoned
  const isSampled = new Uint8Array(S);
  for (const i of rows) isSampled[i] = 1;
  return {
    title: `stage 1, heads ${heads} / kv heads ${kvHeads}, S ${S}, d ${d}: ${n} sampled rows (rowRatio ${a.rowRatio}) -> column scores (heads, S)`,
    dispatches: stage1Dispatches(ctx, s, q, k, sr, o),
    inputs: [
      { kind: 'map', title: 'P of the sampled rows only, head 0 (what stage 1 computes)', values: probabilityMap(headView(x.q, 0, S, d), headView(x.k, 0, S, d), S, d, attentionRow, rows), rows: S, cols: S },
      { kind: 'bars', title: 'sampled rows (green) along the sequence', values: new Float32Array(S).fill(1), mark: isSampled, markLabel: 'sampled' },
    ],
    reference: () =>
      Array.from({ length: heads }, (_, h) => {
        const g = kvHeadOf(h, heads, kvHeads);
        const qh = headView(x.q, h, S, d), kh = headView(x.k, g, S, d);
        return { scores: columnScores(qh, kh, S, d, rows), lse: rows.map((i) => logSumExp(scoreRow(qh, kh, d, i, defaultScale(d)))) };
      }),
    async compare(ref) {
      const want = ref as { scores: Float64Array; lse: number[] }[];
      const scores = await readTensor(ctx, o.scores), lse = await readTensor(ctx, o.rowLse);
      let es = 0, el = 0;
      want.forEach((w, h) => {
        es = Math.max(es, maxAbsError(scores.subarray(h * S, (h + 1) * S), w.scores));
        el = Math.max(el, maxAbsError(lse.subarray(h * sr.nMax, h * sr.nMax + n), w.lse));
      });
      return {
        checks: [
          { what: 'column scores max abs error', error: es, tolerance: SCORE_TOL, why: 'sums of n f32 probabilities' },
          { what: 'sampled-row lse max abs error', error: el, tolerance: LSE_TOL, why: '~50 ulps of |lse| ~ 5' },
        ],
        outputs: [{ kind: 'bars', title: `column scores c_j, head 0 (they sum to n = ${n})`, values: scores.subarray(0, S) }],
      };
    },
    dispose: () => {
      destroyAll(q, k);
      destroyStage1(o, sr);
    },
  };
};

const meta = {
  title: 'Kernels/Stage 1 sampled scores',
  args: { ...ATTENTION_ARGS, rowRatio: 0.1 },
  argTypes: { ...attentionArgTypes, rowRatio: { control: { type: 'range', min: 0.01, max: 1, step: 0.01 }, description: 'share of query rows sampled' } },
  render: (args: Stage1Args) => <KernelStory name="Stage 1: sampled rows and column scores" args={args} make={make} />,
} satisfies Meta<Stage1Args>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
