// Kernels/Sparse attention: attention renormalised over SampleAttention's mask (local window plus
// kept key stripes) with its log-sum-exp (gpu/sample/sparse.ts on tiled.wgsl), against
// sparseAttention (src/sampleattention/spec/reference.ts) and the float64 log-sum-exp over the kept keys.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createSparseOutputs, destroyKeySets, destroySparseOutputs, sparseDispatch, uploadKeySets } from '../gpu/sample/sparse';
import { destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import { defaultScale, headView, inMask, keySetOf, kvHeadOf, scoreRow, sparseAttention, windowSize } from '../src/sampleattention/spec/reference';
import { KernelStory, type MakeRun } from './kernel-harness';
import { ATTENTION_ARGS, attentionArgTypes, shapeOf, windowRatioArg, type AttentionArgs } from './attention-args';
import { attentionInputs, keysFor, logSumExp, maskMap, maxAbsError, relError, slab } from './kernel-inputs';

// Same f32-vs-float64 argument as the dense kernel (tests/gpu/sample-sparse.test.ts).
const OUT_TOL = 2e-5;
const LSE_TOL = 1e-5;

interface SparseArgs extends AttentionArgs { windowRatio: number }

const make: MakeRun<SparseArgs> = (ctx, a) => {
  const { heads, kvHeads, S, d } = a;
  const s = shapeOf(a);
  const x = attentionInputs(a.seed, heads, kvHeads, S, d, a.pattern);
  const keys = keysFor(a.seed, heads, S, x, a.pattern);
  const w = windowSize(S, a.windowRatio);
  const windows = Array(heads).fill(w);
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v); // (kvHeads, S, d) f32
  const ks = uploadKeySets(ctx, S, keys, windows); // keyList (heads, S), keyStats (heads, 2), windows (heads) u32
  const o = createSparseOutputs(ctx, s, true); // out (heads, S, d), lse (heads, S) f32, NaN-poisoned
  return {
    title: `sparse attention, heads ${heads} / kv heads ${kvHeads}, S ${S}, d ${d}: window ${w} and ${keys[0].length} kept keys (head 0)`,
    dispatches: [sparseDispatch(ctx, s, q, k, v, ks, o)],
    inputs: [
      { kind: 'map', title: 'mask M, head 0 (window band + kept key stripes)', values: maskMap(S, w, keys[0]), rows: S, cols: S, gamma: 1 },
      { kind: 'map', title: 'v, kv head 0', values: slab(x.v, 0, S, d), rows: S, cols: d, signed: true },
    ],
    reference: () =>
      Array.from({ length: heads }, (_, h) => {
        const g = kvHeadOf(h, heads, kvHeads);
        const [qh, kh, vh] = [headView(x.q, h, S, d), headView(x.k, g, S, d), headView(x.v, g, S, d)];
        const set = keySetOf(keys[h], S);
        const lse = Array.from({ length: S }, (_, i) => logSumExp(scoreRow(qh, kh, d, i, defaultScale(d)), (j) => inMask(i, j, w, set)));
        return { out: sparseAttention(qh, kh, vh, S, d, w, set), lse };
      }),
    async compare(ref) {
      const want = ref as { out: Float64Array; lse: number[] }[];
      const out = await readTensor(ctx, o.out!), lse = await readTensor(ctx, o.lse);
      let eo = 0, el = 0;
      want.forEach((r, h) => {
        eo = Math.max(eo, relError(out.subarray(h * S * d, (h + 1) * S * d), r.out));
        el = Math.max(el, maxAbsError(lse.subarray(h * S, (h + 1) * S), r.lse));
      });
      return {
        checks: [
          { what: 'out relative error (worst head)', error: eo, tolerance: OUT_TOL, why: 'f32 dot products and softmax sums' },
          { what: 'sparse lse max abs error', error: el, tolerance: LSE_TOL, why: '~50 ulps of |lse| ~ 5' },
        ],
        outputs: [
          { kind: 'map', title: 'out, head 0', values: slab(out, 0, S, d), rows: S, cols: d, signed: true },
          { kind: 'bars', title: 'sparse lse by row, head 0', values: lse.subarray(0, S) },
        ],
      };
    },
    dispose: () => {
      destroyAll(q, k, v);
      destroyKeySets(ks);
      destroySparseOutputs(o);
    },
  };
};

const meta = {
  title: 'Kernels/Sparse attention',
  args: { ...ATTENTION_ARGS, windowRatio: 0.1 },
  argTypes: { ...attentionArgTypes, windowRatio: windowRatioArg },
  render: (args: SparseArgs) => <KernelStory name="Sparse attention over the SampleAttention mask" args={args} make={make} />,
} satisfies Meta<SparseArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
