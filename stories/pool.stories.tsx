// Kernels/Pooled maps: the grid per head the studio draws at any S (gpu/sample/pool.ts), over the
// whole map or a viewport (what the zoomed head view asks for; block 1 = exact): max P, sum P, kept
// fraction of the mask and missed mass per cell, recomputed from q, k and the dense log-sum-exp;
// against the same cells summed from the float64 P (poolViewportReference, src/engine/pool-cpu.ts).
// The lse and mask inputs are the float64 reference's (lse rounded to f32), so the kernel runs alone.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createPooled, poolGrid, poolDispatch, POOL_PLANES, type PoolViewport } from '../gpu/sample/pool';
import { poolViewportReference } from '../src/engine/pool-cpu';
import { destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import { destroyMaskPlanes, uploadMaskPlanes } from '../gpu/sample/mask-planes';
import { layerPlaneArrays, tokensPlanes } from '../src/sampleattention/spec/mask-planes';
import { attentionRow, denseAttention, headView, inMask, keySetOf, kvHeadOf, windowSize } from '../src/sampleattention/spec/reference';
import { KernelStory, type MakeRun } from './kernel-harness';
import { ATTENTION_ARGS, attentionArgTypes, shapeOf, windowRatioArg, type AttentionArgs } from './attention-args';
import { attentionInputs, keysFor, maxAbsError, probabilityMap } from './kernel-inputs';

// Sums of up to block^2 f32 probabilities (each ~1e-7 relative, plus the f32 rounding of the lse
// input, ~5e-7 relative): 1e-5 absolute; the kept fraction is a ratio of exact counts: 1e-6
// (tests/gpu/sample-engine.test.ts).
const TOL = 1e-5;
const FRACTION_TOL = 1e-6;

interface PoolArgs extends AttentionArgs { windowRatio: number; B: number; viewport: string }

/** "r0 r1 c0 c1" (clipped to S), or empty for the whole map. */
function parseViewport(text: string, S: number): PoolViewport | undefined {
  const n = text.trim().split(/[\s,]+/).filter(Boolean).map(Number);
  if (n.length !== 4 || n.some((x) => !Number.isInteger(x))) return undefined;
  const c = (x: number) => Math.max(0, Math.min(S, x));
  return { r0: c(n[0]), r1: c(n[1]), c0: c(n[2]), c1: c(n[3]) };
}

const make: MakeRun<PoolArgs> = (ctx, a) => {
  const { heads, kvHeads, S, d } = a;
  const s = shapeOf(a);
  const x = attentionInputs(a.seed, heads, kvHeads, S, d, a.pattern);
  const keys = keysFor(a.seed, heads, S, x, a.pattern);
  const w = windowSize(S, a.windowRatio);
  const viewport = parseViewport(a.viewport, S);
  const grid = poolGrid(S, a.B, viewport);
  const { rows, cols, block } = grid;
  const v = grid.viewport;
  const lseHost = new Float32Array(heads * S);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    lseHost.set(denseAttention(headView(x.q, h, S, d), headView(x.k, g, S, d), headView(x.v, g, S, d), S, d).lse, h * S);
  }
  const q = uploadTensor(ctx, 'q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const lse = uploadTensor(ctx, 'dense lse', [heads, S], lseHost); // (heads, S) f32
  const pa = layerPlaneArrays(keys.map((kk) => tokensPlanes(keySetOf(kk, S), w)));
  const planes = uploadMaskPlanes(ctx, heads, S, pa.col, pa.diagCum); // (heads, S) u32 each: the mask planes
  const req = { B: a.B, headStart: 0, headCount: heads, viewport };
  const pooled = createPooled(ctx, S, req); // (heads, 4, rows, cols) f32, NaN-poisoned
  return {
    title: `pooled maps, heads ${heads}, S ${S}, d ${d}: rows ${v.r0}..${v.r1 - 1} x keys ${v.c0}..${v.c1 - 1} in (${rows}, ${cols}) cells of ${block} x ${block} tokens, window ${w}`,
    dispatches: [poolDispatch(ctx, s, q, k, lse, planes.col.buffer, planes.diagCum.buffer, req, pooled)],
    inputs: [{ kind: 'map', title: 'P at token resolution, head 0 (float64)', values: probabilityMap(headView(x.q, 0, S, d), headView(x.k, 0, S, d), S, d, attentionRow), rows: S, cols: S }],
    reference: () =>
      Array.from({ length: heads }, (_, h) => {
        const g = kvHeadOf(h, heads, kvHeads);
        const set = keySetOf(keys[h], S);
        return poolViewportReference((i) => attentionRow(headView(x.q, h, S, d), headView(x.k, g, S, d), S, d, i), (i, j) => inMask(i, j, w, set), grid);
      }),
    async compare(ref) {
      const want = ref as Float64Array[][];
      const got = await readTensor(ctx, pooled);
      const err = [0, 0, 0, 0];
      const n = rows * cols;
      want.forEach((planes, h) => planes.forEach((pl, p) => (err[p] = Math.max(err[p], maxAbsError(got.subarray((h * 4 + p) * n, (h * 4 + p + 1) * n), pl)))));
      const plane = (p: number) => got.subarray(p * n, (p + 1) * n);
      return {
        checks: POOL_PLANES.map((name, p) => ({ what: `${name} max abs error`, error: err[p], tolerance: name === 'keptFraction' ? FRACTION_TOL : TOL, why: name === 'keptFraction' ? 'ratio of exact counts' : 'f32 sums of <= block^2 probabilities' })),
        outputs: POOL_PLANES.map((name, p) => ({ kind: 'map' as const, title: `${name}, head 0`, values: plane(p), rows, cols, gamma: name === 'keptFraction' ? 1 : 0.4 })),
      };
    },
    dispose: () => { destroyAll(q, k, lse, pooled); destroyMaskPlanes(planes); },
  };
};

const meta = {
  title: 'Kernels/Pooled maps',
  args: { ...ATTENTION_ARGS, windowRatio: 0.1, B: 12, viewport: '' },
  argTypes: { ...attentionArgTypes, windowRatio: windowRatioArg, B: { control: { type: 'number', min: 1, max: 128, step: 1 }, description: 'grid side (clipped to S)' }, viewport: { control: 'text', description: 'query rows and keys "r0 r1 c0 c1" (end exclusive); empty: the whole map' } },
  render: (args: PoolArgs) => <KernelStory name="Pooled attention and mask maps" args={args} make={make} />,
} satisfies Meta<PoolArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
/** A zoomed viewport straddling the diagonal at one cell per token: the exact map. */
export const ExactViewport: StoryObj<typeof meta> = { args: { pattern: 'structured', B: 64, viewport: '20 57 9 50' } };
/** A viewport wholly above the diagonal: every cell masked, all zeros. */
export const AboveDiagonal: StoryObj<typeof meta> = { args: { B: 8, viewport: '0 10 30 60' } };
