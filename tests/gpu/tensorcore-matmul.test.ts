import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { createTensor, destroyAll, readTensor, uploadTensor, uploadTensorF16 } from '../../gpu/tensor';
import { toF16 } from '../../gpu/tensorcore/half';
import { defaultMatmulKernel, matmulF16Dispatch, matmulKernelName, VEC16_MATMUL_LARGE, VEC16_MATMUL_SHAPE, type MatmulKernel } from '../../gpu/tensorcore/matmul';
import { vec16Unfit } from '../../gpu/tensorcore/matmul-vec16';
import { MATMUL_SWEEP } from '../../bench/tensorcore-sweep';
import { freshSeed, gpu, randn, rng } from '../helpers/gpu';
import { roundAllF16, tensorCoreModeOrSkip } from '../helpers/tensorcore';

// y = x W^T + b with x and W rounded to f16 (as the kernels read them), products exact in f32 and
// summed in f32: against a float64 sum of the same f16 values the error is at most about
// K * 2^-24 of sum |x_k w_k| (K <= 200 here: 1.2e-5). 5e-5 of that sum leaves room for the order
// in which tensor cores add, and still catches a wrong element (an error of order sum |x_k w_k|).
const TOL = 5e-5;

// Small blocks of both kernels (several blocks per case: edges inside and at the end of y); the
// emulation compiles slowly on a CPU adapter, so there they stand in for the 128 x 128 defaults.
const SMALL_STAGED: MatmulKernel = { kind: 'staged', tile: { SGR: 1, SGC: 2, TM: 1, TN: 1, BK: 16, pad: 4 } };
const SMALL_VEC16 = (nbuf: 1 | 2): MatmulKernel => ({ kind: 'vec16', shape: { SGR: 1, SGC: 2, TM: 1, TN: 2, BK: 32, nbuf } });

// `kind`: what the default must pick for this K (vec16 needs K % 8 == 0), where the default vec16
// block fits the adapter's workgroup memory (the H200's 48 KiB: exactly; the emulation's scratch
// takes 8 KiB more, so on lavapipe the staged kernel must be picked for every K). Awkward M and N,
// rows from xRow0 > 0, K ending mid-slab (K % 32 != 0), odd K (the staged kernel's scalar loads).
const cases = [
  { M: 77, N: 45, K: 83, bias: true, xRow0: 0, kind: 'staged', small: SMALL_STAGED },
  { M: 40, N: 70, K: 68, bias: false, xRow0: 5, kind: 'staged', small: SMALL_STAGED },
  { M: 130, N: 96, K: 200, bias: false, xRow0: 0, kind: 'vec16', small: SMALL_VEC16(2) },
  { M: 50, N: 45, K: 88, bias: true, xRow0: 3, kind: 'vec16', small: SMALL_VEC16(1) },
  { M: 3, N: 5, K: 8, bias: true, xRow0: 2, kind: 'vec16', small: SMALL_VEC16(2) },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`f16 tensor-core matmul equals float64 on the f16 inputs: M ${c.M}, N ${c.N}, K ${c.K}, bias ${c.bias}, xRow0 ${c.xRow0}, default ${c.kind} where it fits (SEED=${seed})`, async (t) => {
    const ctx = await gpu();
    const mode = tensorCoreModeOrSkip(t, ctx);
    if (!mode) return;
    const dflt = defaultMatmulKernel(ctx, mode, c.K);
    const tooBig = vec16Unfit(ctx, mode, VEC16_MATMUL_SHAPE, 8);
    if (tooBig) console.log(`default vec16 block does not fit here: ${tooBig}`);
    assert.equal(dflt.kind, tooBig ? 'staged' : c.kind, `K ${c.K}: the default picked ${matmulKernelName(dflt)}`);
    // Real subgroup matrices: the default as forward calls it (no kernel given), the sweep's other
    // kernels and the small block. Emulated: the small block of the kind K allows.
    // The large block is the default only from K, N >= 1024 (larger than these cases): forced here.
    const large: MatmulKernel = { kind: 'vec16', shape: VEC16_MATMUL_LARGE };
    const kernels: (MatmulKernel | undefined)[] = mode === 'real' ? [undefined, ...[large, ...MATMUL_SWEEP].filter((k) => k.kind !== 'vec16' || c.K % 8 === 0), c.small] : [c.small];
    const r = rng(seed);
    const rows = c.M + c.xRow0;
    const x = randn(r, rows * c.K), w = randn(r, c.N * c.K, 0.5), b = randn(r, c.N);
    const X = uploadTensor(ctx, 'x', [rows, c.K], x); // (rows, K) f32
    // Every kernel again on x given as f16 (the same roundings: the reference is unchanged).
    const X16 = uploadTensorF16(ctx, 'x f16', [rows, c.K], toF16(x)); // (rows, K) f16
    const runs: [MatmulKernel | undefined, boolean][] = [false, true].flatMap((half) => kernels.map((k): [MatmulKernel | undefined, boolean] => [k, half]));
    const W = uploadTensorF16(ctx, 'w', [c.N, c.K], toF16(w)); // (N, K) f16
    const B = c.bias ? uploadTensor(ctx, 'b', [c.N], b) : undefined; // (N) f32
    const xr = roundAllF16(x), wr = roundAllF16(w);
    try {
      for (const [k, half] of runs) {
        const name = `${k ? matmulKernelName(k) : `default ${matmulKernelName(dflt)}`}${half ? ', x f16' : ''}`;
        const Y = createTensor(ctx, 'y', [c.M, c.N], true); // (M, N) f32, NaN-poisoned
        try {
          await checked(ctx.device, name, () => run(ctx, [matmulF16Dispatch(ctx, mode, { x: half ? X16 : X, w: W, bias: B, y: Y, xRow0: c.xRow0 }, k)]));
          const y = await readTensor(ctx, Y);
          let worst = 0;
          for (let i = 0; i < c.M; i++) {
            for (let j = 0; j < c.N; j++) {
              let ref = c.bias ? b[j] : 0, mag = c.bias ? Math.abs(b[j]) : 0;
              for (let kk = 0; kk < c.K; kk++) { const pr = xr[(i + c.xRow0) * c.K + kk] * wr[j * c.K + kk]; ref += pr; mag += Math.abs(pr); }
              const got = y[i * c.N + j];
              assert.ok(Number.isFinite(got), `${name}: y[${i}, ${j}] is ${got}`);
              worst = Math.max(worst, Math.abs(got - ref) / mag);
            }
          }
          console.log(`${name}: worst |error| / sum |x w| = ${worst.toExponential(2)} (bound ${TOL})`);
          assert.ok(worst <= TOL, `${name}: worst relative error ${worst} above ${TOL}`);
        } finally {
          destroyAll(Y);
        }
      }
    } finally {
      destroyAll(X, X16, W, B);
    }
  });
}


test('the vec16 matmul refuses K that is not a multiple of 8 by name', async (t) => {
  const ctx = await gpu();
  const mode = tensorCoreModeOrSkip(t, ctx);
  if (!mode) return;
  const X = createTensor(ctx, 'x', [4, 12]); // (4, 12) f32
  const W = uploadTensorF16(ctx, 'w', [4, 12], toF16(new Float32Array(48))); // (4, 12) f16
  const Y = createTensor(ctx, 'y', [4, 4]); // (4, 4) f32
  try {
    assert.throws(() => matmulF16Dispatch(ctx, mode, { x: X, w: W, y: Y }, SMALL_VEC16(2)), /K 12 is not a multiple of 8/);
  } finally {
    destroyAll(X, W, Y);
  }
});
