// Kernels/Normalisation: RMSNorm and LayerNorm over rows of n = heads * d (gpu/forward/norm.ts),
// both in one run, against rmsNormRef / layerNormRef (src/reference/forward-ref.ts).
import type { Meta, StoryObj } from '@storybook/react-vite';
import { normDispatch } from '../gpu/forward/norm';
import { createTensor, destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import { layerNormRef, rmsNormRef } from '../src/reference/forward-ref';
import { DEFAULT_ARGS, KernelStory, kernelArgTypes, type KernelArgs, type MakeRun } from './kernel-harness';
import { matrixInput, randn, relError, rng } from './kernel-inputs';

// Sums of n squares and an rsqrt, each a few ulps: 1e-6 relative (tests/gpu/forward-kernels.test.ts).
const TOL = 1e-6;
const EPS = 1e-5;

const make: MakeRun<KernelArgs> = (ctx, { S, d, heads, seed, pattern }) => {
  const n = heads * d;
  const r = rng(seed);
  // An offset of 3 makes LayerNorm's mean matter (a one-pass variance would lose digits).
  const xh = matrixInput(r, S, n, pattern).map((v) => v + 3), wh = randn(r, n), bh = randn(r, n);
  const x = uploadTensor(ctx, 'x', [S, n], xh); // (S, n) f32
  const w = uploadTensor(ctx, 'w', [n], wh); // (n) f32
  const b = uploadTensor(ctx, 'b', [n], bh); // (n) f32
  const yr = createTensor(ctx, 'y rms', [S, n], true); // (S, n) f32, NaN-poisoned
  const yl = createTensor(ctx, 'y layer', [S, n], true); // (S, n) f32, NaN-poisoned
  return {
    title: `RMSNorm and LayerNorm (with bias) of x (${S}, ${n}) over rows of ${n}, eps ${EPS}`,
    dispatches: [normDispatch(ctx, { kind: 'rms', x, weight: w, eps: EPS, y: yr }), normDispatch(ctx, { kind: 'layer', x, weight: w, bias: b, eps: EPS, y: yl })],
    inputs: [
      { kind: 'map', title: 'x (+3 offset)', values: xh, rows: S, cols: n, signed: true },
      { kind: 'bars', title: 'weight', values: wh },
    ],
    reference: () => ({ rms: rmsNormRef(xh, n, wh, EPS), layer: layerNormRef(xh, n, wh, bh, EPS) }),
    async compare(ref) {
      const want = ref as { rms: Float64Array; layer: Float64Array };
      const gr = await readTensor(ctx, yr), gl = await readTensor(ctx, yl);
      return {
        checks: [
          { what: 'RMSNorm relative error', error: relError(gr, want.rms), tolerance: TOL, why: 'n squares summed in f32, one rsqrt' },
          { what: 'LayerNorm relative error', error: relError(gl, want.layer), tolerance: TOL, why: 'two-pass mean and variance in f32' },
        ],
        outputs: [
          { kind: 'map', title: 'RMSNorm(x)', values: gr, rows: S, cols: n, signed: true },
          { kind: 'map', title: 'LayerNorm(x)', values: gl, rows: S, cols: n, signed: true },
        ],
      };
    },
    dispose: () => destroyAll(x, w, b, yr, yl),
  };
};

const meta = {
  title: 'Kernels/Normalisation',
  args: DEFAULT_ARGS,
  argTypes: kernelArgTypes,
  render: (args: KernelArgs) => <KernelStory name="Normalisation: RMSNorm and LayerNorm" args={args} make={make} />,
} satisfies Meta<KernelArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
