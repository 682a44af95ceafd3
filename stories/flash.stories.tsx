// Kernels/Dense flash attention: causal attention of every head with its log-sum-exp
// (gpu/attention/flash.ts on tiled.wgsl), against denseAttention (src/sampleattention/spec/reference.ts).
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createDenseOutputs, destroyDenseOutputs, flashDispatch } from '../gpu/attention/flash';
import { destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import { attentionRow, denseAttention, headView, kvHeadOf } from '../src/sampleattention/spec/reference';
import { KernelStory, type MakeRun } from './kernel-harness';
import { ATTENTION_ARGS, attentionArgTypes, shapeOf, type AttentionArgs } from './attention-args';
import { attentionInputs, maxAbsError, probabilityMap, relError, slab } from './kernel-inputs';

// f32 dot products of d terms and softmax sums of <= S terms: a few 1e-7 relative; 2e-5 on the
// output (Frobenius) and 1e-5 absolute on lse (~50 ulps at |lse| ~ 5), as in
// tests/gpu/attention-flash.test.ts; a wrong mask is an error of 1e-2 or more.
const OUT_TOL = 2e-5;
const LSE_TOL = 1e-5;

const make: MakeRun<AttentionArgs> = (ctx, a) => {
  const { heads, kvHeads, S, d } = a;
  const s = shapeOf(a);
  const x = attentionInputs(a.seed, heads, kvHeads, S, d, a.pattern);
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v); // (kvHeads, S, d) f32
  const o = createDenseOutputs(ctx, s); // out (heads, S, d), lse (heads, S) f32, NaN-poisoned
  const dispatches = [flashDispatch(ctx, s, q, k, v, o)];
  return {
    title: `causal attention, heads ${heads} / kv heads ${kvHeads}, S ${S}, d ${d}: out (heads, S, d) and lse (heads, S)`,
    dispatches,
    inputs: [
      { kind: 'map', title: 'q, head 0', values: slab(x.q, 0, S, d), rows: S, cols: d, signed: true },
      { kind: 'map', title: 'k, kv head 0', values: slab(x.k, 0, S, d), rows: S, cols: d, signed: true },
      { kind: 'map', title: 'P = softmax(q k^T / sqrt(d)), head 0 (float64, for orientation)', values: probabilityMap(headView(x.q, 0, S, d), headView(x.k, 0, S, d), S, d, attentionRow), rows: S, cols: S },
    ],
    reference: () =>
      Array.from({ length: heads }, (_, h) => {
        const g = kvHeadOf(h, heads, kvHeads);
        return denseAttention(headView(x.q, h, S, d), headView(x.k, g, S, d), headView(x.v, g, S, d), S, d);
      }),
    async compare(ref) {
      const want = ref as { out: Float64Array; lse: Float64Array }[];
      const out = await readTensor(ctx, o.out), lse = await readTensor(ctx, o.lse);
      let eo = 0, el = 0;
      want.forEach((w, h) => {
        eo = Math.max(eo, relError(out.subarray(h * S * d, (h + 1) * S * d), w.out));
        el = Math.max(el, maxAbsError(lse.subarray(h * S, (h + 1) * S), w.lse));
      });
      return {
        checks: [
          { what: 'out relative error (worst head)', error: eo, tolerance: OUT_TOL, why: 'f32 dot products and softmax sums' },
          { what: 'lse max abs error', error: el, tolerance: LSE_TOL, why: '~50 ulps of |lse| ~ 5' },
        ],
        outputs: [
          { kind: 'map', title: 'out, head 0', values: slab(out, 0, S, d), rows: S, cols: d, signed: true },
          { kind: 'bars', title: 'lse by row, head 0', values: lse.subarray(0, S) },
        ],
      };
    },
    dispose: () => {
      destroyAll(q, k, v);
      destroyDenseOutputs(o);
    },
  };
};

const meta = {
  title: 'Kernels/Dense flash attention',
  args: ATTENTION_ARGS,
  argTypes: attentionArgTypes,
  render: (args: AttentionArgs) => <KernelStory name="Dense flash attention with log-sum-exp" args={args} make={make} />,
} satisfies Meta<AttentionArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
