import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { createTensor, destroyAll, readTensor, uploadTensor, uploadTensorF16 } from '../../gpu/tensor';
import { toF16 } from '../../gpu/tensorcore/half';
import { DEFAULT_MATMUL_TILE, matmulF16Dispatch, type MatmulTile } from '../../gpu/tensorcore/matmul';
import { freshSeed, gpu, randn, rng } from '../helpers/gpu';
import { roundAllF16, tensorCoreModeOrSkip } from '../helpers/tensorcore';

// y = x W^T + b with x and W rounded to f16 (as the kernel reads them), products exact in f32 and
// summed in f32: against a float64 sum of the same f16 values the error is at most about
// K * 2^-24 of sum |x_k w_k| (K <= 200 here: 1.2e-5). 5e-5 of that sum leaves room for the order
// in which tensor cores add, and still catches a wrong element (an error of order sum |x_k w_k|).
const TOL = 5e-5;

const SMALL: MatmulTile = { SGR: 1, SGC: 2, TM: 1, TN: 1, BK: 16, pad: 4 };
// The emulation compiles slowly on a CPU adapter: a 2 x 2-subgroup block of fewer accumulators
// covers the same paths (interior blocks stored directly, edge blocks through workgroup memory).
const BIG = (emulated: boolean): MatmulTile => (emulated ? { SGR: 2, SGC: 2, TM: 2, TN: 1, BK: 32, pad: 8 } : DEFAULT_MATMUL_TILE);
const cases = [
  { M: 77, N: 45, K: 83, bias: true, xRow0: 0, tile: SMALL as MatmulTile | 'big' },
  { M: 40, N: 70, K: 64, bias: false, xRow0: 5, tile: SMALL as MatmulTile | 'big' },
  { M: 130, N: 96, K: 200, bias: false, xRow0: 0, tile: 'big' as const },
  { M: 128, N: 64, K: 48, bias: false, xRow0: 0, tile: 'big' as const },
  { M: 3, N: 5, K: 7, bias: true, xRow0: 2, tile: 'big' as const },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`f16 tensor-core matmul equals float64 on the f16 inputs: M ${c.M}, N ${c.N}, K ${c.K}, bias ${c.bias}, xRow0 ${c.xRow0}, tile ${JSON.stringify(c.tile)} (SEED=${seed})`, async (t) => {
    const ctx = await gpu();
    const mode = tensorCoreModeOrSkip(t, ctx);
    if (!mode) return;
    const tile = c.tile === 'big' ? BIG(mode === 'emulated') : c.tile;
    const r = rng(seed);
    const rows = c.M + c.xRow0;
    const x = randn(r, rows * c.K), w = randn(r, c.N * c.K, 0.5), b = randn(r, c.N);
    const X = uploadTensor(ctx, 'x', [rows, c.K], x);
    const W = uploadTensorF16(ctx, 'w', [c.N, c.K], toF16(w));
    const B = c.bias ? uploadTensor(ctx, 'b', [c.N], b) : undefined;
    const Y = createTensor(ctx, 'y', [c.M, c.N], true);
    try {
      await checked(ctx.device, 'f16 matmul', () => run(ctx, [matmulF16Dispatch(ctx, mode, { x: X, w: W, bias: B, y: Y, xRow0: c.xRow0 }, tile)]));
      const y = await readTensor(ctx, Y);
      const xr = roundAllF16(x), wr = roundAllF16(w);
      let worst = 0;
      for (let i = 0; i < c.M; i++) {
        for (let j = 0; j < c.N; j++) {
          let ref = c.bias ? b[j] : 0, mag = c.bias ? Math.abs(b[j]) : 0;
          for (let k = 0; k < c.K; k++) { const pr = xr[(i + c.xRow0) * c.K + k] * wr[j * c.K + k]; ref += pr; mag += Math.abs(pr); }
          const got = y[i * c.N + j];
          assert.ok(Number.isFinite(got), `y[${i}, ${j}] is ${got}`);
          worst = Math.max(worst, Math.abs(got - ref) / mag);
        }
      }
      console.log(`worst |error| / sum |x w| = ${worst.toExponential(2)} (bound ${TOL})`);
      assert.ok(worst <= TOL, `worst relative error ${worst} above ${TOL}`);
    } finally {
      destroyAll(X, W, B, Y);
    }
  });
}
