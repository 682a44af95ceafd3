// Kernels/Pooled maps: the (B, B) grid per head the studio draws at any S (gpu/sample/pool.ts):
// max P, sum P, kept fraction of the mask and missed mass per cell, recomputed from q, k and the
// dense log-sum-exp; against the same cells summed from the float64 P (src/sample/reference.ts).
// The lse and mask inputs are the float64 reference's (lse rounded to f32), so the kernel runs alone.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createPooled, poolBlock, poolDispatch, POOL_PLANES } from '../gpu/sample/pool';
import { destroyAll, readTensor, uploadTensor, uploadU32 } from '../gpu/tensor';
import { attentionRow, denseAttention, headView, inMask, keySetOf, kvHeadOf, windowSize } from '../src/sample/reference';
import { KernelStory, type MakeRun } from './kernel-harness';
import { ATTENTION_ARGS, attentionArgTypes, shapeOf, windowRatioArg, type AttentionArgs } from './attention-args';
import { attentionInputs, keysFor, maxAbsError, probabilityMap } from './kernel-inputs';

// Sums of up to block^2 f32 probabilities (each ~1e-7 relative, plus the f32 rounding of the lse
// input, ~5e-7 relative): 1e-5 absolute; the kept fraction is a ratio of exact counts: 1e-6
// (tests/gpu/sample-engine.test.ts).
const TOL = 1e-5;
const FRACTION_TOL = 1e-6;

interface PoolArgs extends AttentionArgs { windowRatio: number; B: number }

const make: MakeRun<PoolArgs> = (ctx, a) => {
  const { heads, kvHeads, S, d } = a;
  const s = shapeOf(a);
  const x = attentionInputs(a.seed, heads, kvHeads, S, d, a.pattern);
  const keys = keysFor(a.seed, heads, S, x, a.pattern);
  const w = windowSize(S, a.windowRatio);
  const { B, block } = poolBlock(S, a.B);
  const lseHost = new Float32Array(heads * S);
  const maskHost = new Uint32Array(heads * S);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    lseHost.set(denseAttention(headView(x.q, h, S, d), headView(x.k, g, S, d), headView(x.v, g, S, d), S, d).lse, h * S);
    for (const j of keys[h]) maskHost[h * S + j] = 1;
  }
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const lse = uploadTensor(ctx, 'dense lse', [heads, S], lseHost); // (heads, S) f32
  const mask = uploadU32(ctx, 'key mask', maskHost); // (heads, S) u32
  const windows = uploadU32(ctx, 'windows', Array(heads).fill(w)); // (heads) u32
  const req = { B: a.B, headStart: 0, headCount: heads };
  const pooled = createPooled(ctx, S, req); // (heads, 4, B, B) f32, NaN-poisoned
  return {
    title: `pooled maps, heads ${heads}, S ${S}, d ${d}: (${B}, ${B}) cells of ${block} x ${block} tokens, window ${w}`,
    dispatches: [poolDispatch(ctx, s, q, k, lse, mask, windows, req, pooled)],
    inputs: [{ kind: 'map', title: 'P at token resolution, head 0 (float64)', values: probabilityMap(headView(x.q, 0, S, d), headView(x.k, 0, S, d), S, d, attentionRow), rows: S, cols: S }],
    reference: () =>
      Array.from({ length: heads }, (_, h) => {
        const g = kvHeadOf(h, heads, kvHeads);
        const set = keySetOf(keys[h], S);
        const planes = POOL_PLANES.map(() => new Float64Array(B * B));
        const [mx, sm, kept, miss] = planes;
        const causal = new Float64Array(B * B);
        for (let i = 0; i < S; i++) {
          const p = attentionRow(headView(x.q, h, S, d), headView(x.k, g, S, d), S, d, i);
          for (let j = 0; j <= i; j++) {
            const cell = Math.floor(i / block) * B + Math.floor(j / block);
            mx[cell] = Math.max(mx[cell], p[j]);
            sm[cell] += p[j];
            causal[cell]++;
            if (inMask(i, j, w, set)) kept[cell]++;
            else miss[cell] += p[j];
          }
        }
        for (let c = 0; c < B * B; c++) kept[c] = causal[c] ? kept[c] / causal[c] : 0;
        return planes;
      }),
    async compare(ref) {
      const want = ref as Float64Array[][];
      const got = await readTensor(ctx, pooled);
      const err = [0, 0, 0, 0];
      want.forEach((planes, h) => planes.forEach((pl, p) => (err[p] = Math.max(err[p], maxAbsError(got.subarray((h * 4 + p) * B * B, (h * 4 + p + 1) * B * B), pl)))));
      const plane = (p: number) => got.subarray(p * B * B, (p + 1) * B * B);
      return {
        checks: POOL_PLANES.map((name, p) => ({ what: `${name} max abs error`, error: err[p], tolerance: name === 'keptFraction' ? FRACTION_TOL : TOL, why: name === 'keptFraction' ? 'ratio of exact counts' : 'f32 sums of <= block^2 probabilities' })),
        outputs: POOL_PLANES.map((name, p) => ({ kind: 'map' as const, title: `${name}, head 0`, values: plane(p), rows: B, cols: B, gamma: name === 'keptFraction' ? 1 : 0.4 })),
      };
    },
    dispose: () => destroyAll(q, k, lse, mask, windows, pooled),
  };
};

const meta = {
  title: 'Kernels/Pooled maps',
  args: { ...ATTENTION_ARGS, windowRatio: 0.1, B: 12 },
  argTypes: { ...attentionArgTypes, windowRatio: windowRatioArg, B: { control: { type: 'number', min: 1, max: 128, step: 1 }, description: 'grid side (clipped to S)' } },
  render: (args: PoolArgs) => <KernelStory name="Pooled attention and mask maps" args={args} make={make} />,
} satisfies Meta<PoolArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
