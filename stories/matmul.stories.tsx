// Kernels/Matmul: y = x W^T + b (gpu/forward/matmul.ts), x (S, d), W (heads * d, d), the shape of
// a q projection, against src/reference/forward-ref.ts matmulRef.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { matmulDispatch } from '../gpu/forward/matmul';
import { createTensor, destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import { matmulRef } from '../src/reference/forward-ref';
import { DEFAULT_ARGS, KernelStory, kernelArgTypes, type KernelArgs, type MakeRun } from './kernel-harness';
import { matrixInput, randn, relError, rng } from './kernel-inputs';

// f32 dot products of d terms: relative error ~ sqrt(d) * 6e-8 per element, far less in
// Frobenius norm; 2e-6 (tests/gpu/forward-kernels.test.ts) while a wrong index is O(1).
const TOL = 2e-6;

const make: MakeRun<KernelArgs> = (ctx, { S, d, heads, seed, pattern }) => {
  const M = S, K = d, N = heads * d;
  const r = rng(seed);
  const xh = matrixInput(r, M, K, pattern), wh = matrixInput(r, N, K, pattern), bh = randn(r, N);
  const x = uploadTensor(ctx, 'x', [M, K], xh); // (M, K) f32
  const w = uploadTensor(ctx, 'w', [N, K], wh); // (N, K) f32
  const b = uploadTensor(ctx, 'b', [N], bh); // (N) f32
  const y = createTensor(ctx, 'y', [M, N], true); // (M, N) f32, NaN-poisoned
  return {
    title: `y (${M}, ${N}) = x (${M}, ${K}) W^T (${N}, ${K}) + b (${N})`,
    dispatches: [matmulDispatch(ctx, { x, w, bias: b, y })],
    inputs: [
      { kind: 'map', title: 'x', values: xh, rows: M, cols: K, signed: true },
      { kind: 'map', title: 'W', values: wh, rows: N, cols: K, signed: true },
    ],
    reference: () => matmulRef(xh, M, K, wh, N, bh),
    async compare(want) {
      const got = await readTensor(ctx, y);
      return {
        checks: [{ what: 'y relative error (Frobenius)', error: relError(got, want as Float64Array), tolerance: TOL, why: 'f32 dot products of d terms' }],
        outputs: [{ kind: 'map', title: 'y', values: got, rows: M, cols: N, signed: true }],
      };
    },
    dispose: () => destroyAll(x, w, b, y),
  };
};

const meta = {
  title: 'Kernels/Matmul',
  args: DEFAULT_ARGS,
  argTypes: kernelArgTypes,
  render: (args: KernelArgs) => <KernelStory name="Matmul: y = x W^T + b" args={args} make={make} />,
} satisfies Meta<KernelArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
