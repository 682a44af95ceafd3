// Kernels/RoPE: the head split with rotary position embedding (gpu/forward/heads.ts with the
// tables of gpu/forward/rope.ts), x (S, heads * d) -> (heads, S, d), against splitHeadsRef.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { splitHeadsDispatch } from '../gpu/forward/heads';
import { ropeTablesHost, uploadRopeTables } from '../gpu/forward/rope';
import { createTensor, destroyAll, readTensor, uploadTensor } from '../gpu/tensor';
import type { RopeConfig } from '../src/model/config';
import { ropeInvFreqRef, splitHeadsRef } from '../src/reference/forward-ref';
import { DEFAULT_ARGS, KernelStory, kernelArgTypes, type KernelArgs, type MakeRun } from './kernel-harness';
import { randn, relError, rng, slab } from './kernel-inputs';

const ROPE: RopeConfig = { theta: 10000, type: 'default' };

const make: MakeRun<KernelArgs> = (ctx, { S, d, heads, seed, pattern }) => {
  const r = rng(seed);
  let xh = randn(r, S * heads * d);
  if (pattern === 'structured') {
    // Every position holds the same vector: what changes along the sequence is the rotation alone.
    const row = randn(r, heads * d);
    xh = Float32Array.from({ length: S * heads * d }, (_, t) => row[t % (heads * d)]);
  }
  const x = uploadTensor(ctx, 'x', [S, heads * d], xh); // (S, heads * d) f32
  const y = createTensor(ctx, 'y', [heads, S, d], true); // (heads, S, d) f32, NaN-poisoned
  const tables = uploadRopeTables(ctx, ROPE, d, S); // cos, sin (S, d/2) f32
  // The GPU rotates by transformers' f32 angles f32(pos * inv_freq), the reference by float64
  // ones: they differ by ~pos * 6e-8 rad, so the relative error grows with S: 1e-5 covers S < 131
  // (tests/gpu/forward-kernels.test.ts), 1.5 * S * 6e-8 beyond. A wrong pairing or sign is O(1).
  const tol = Math.max(1e-5, 1.5 * S * 6e-8);
  return {
    title: `split heads + RoPE (theta ${ROPE.theta}): x (${S}, ${heads * d}) -> y (${heads}, ${S}, ${d})`,
    dispatches: [splitHeadsDispatch(ctx, x, y, tables)],
    inputs: [
      { kind: 'map', title: 'x', values: xh, rows: S, cols: heads * d, signed: true },
      { kind: 'map', title: 'cos table (position x frequency)', values: d % 2 === 0 ? ropeTablesHost(ROPE, d, S).cos : new Float32Array(S), rows: S, cols: Math.max(1, d >> 1), signed: true },
    ],
    reference: () => splitHeadsRef(xh, S, heads, d, ropeInvFreqRef(ROPE, d)),
    async compare(want) {
      const got = await readTensor(ctx, y);
      return {
        checks: [{ what: 'y relative error', error: relError(got, want as Float64Array), tolerance: tol, why: 'f32 vs float64 rotation angles' }],
        outputs: [{ kind: 'map', title: 'y, head 0 (rotated)', values: slab(got, 0, S, d), rows: S, cols: d, signed: true }],
      };
    },
    dispose: () => destroyAll(x, y, tables.cos, tables.sin),
  };
};

const meta = {
  title: 'Kernels/RoPE',
  args: DEFAULT_ARGS,
  argTypes: kernelArgTypes,
  render: (args: KernelArgs) => <KernelStory name="RoPE: split heads with rotary embedding" args={args} make={make} />,
} satisfies Meta<KernelArgs>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
