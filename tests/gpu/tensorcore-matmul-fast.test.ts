import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { createTensor, createTensorF16, destroyAll, readTensor, uploadTensor, uploadTensorF16 } from '../../gpu/tensor';
import { toF16 } from '../../gpu/tensorcore/half';
import { toF16Dispatch } from '../../gpu/tensorcore/convert';
import { candidateUnfit, MATMUL_CANDIDATES, matmulFastDispatch, type MatmulCandidate } from '../../gpu/tensorcore/matmul-fast';
import { freshSeed, gpu, randn, rng } from '../helpers/gpu';
import { roundAllF16, tensorCoreModeOrSkip } from '../helpers/tensorcore';

// The candidate matmuls of the speed sweep against float64 on the f16-rounded inputs. Tolerance
// as tests/gpu/tensorcore-matmul.test.ts: products of f16 values are exact in f32, sums in f32
// give at most about K 2^-24 of sum |x_k w_k| (K <= 200: 1.2e-5); 5e-5 of that sum leaves room for
// the tensor cores' order of additions and still catches a wrong element (error ~ sum |x_k w_k|).
const TOL = 5e-5;

// On real subgroup matrices every sweep candidate; in the emulation (slow to compile on a CPU
// adapter) one small tile per structure: 1 or 2 buffers, W staged or read from storage, x f32 or f16.
const small = (nbuf: 1 | 2, directW: boolean, xF16: boolean): MatmulCandidate => ({
  name: `small nbuf ${nbuf}${directW ? ' directW' : ''}${xF16 ? ' xf16' : ''}`,
  tile: { SGR: 1, SGC: 2, TM: 1, TN: 2, BK: 32 }, nbuf, directW, xF16,
});
const EMULATED = [small(1, false, false), small(2, false, true), small(2, true, false), small(2, true, true)];

// Awkward M (not a block multiple, xRow0 > 0); N and K multiples of 64 so the direct-W candidates
// fit; a second case with odd-ish N and K = 8 (mod 16) for the staged ones, where K ends mid-slab.
const cases = [
  { M: 77, N: 128, K: 192, bias: true, xRow0: 3 },
  { M: 50, N: 45, K: 88, bias: false, xRow0: 0 },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`f16 matmul candidates equal float64 on the f16 inputs: M ${c.M}, N ${c.N}, K ${c.K}, bias ${c.bias}, xRow0 ${c.xRow0} (SEED=${seed})`, async (t) => {
    const ctx = await gpu();
    const mode = tensorCoreModeOrSkip(t, ctx);
    if (!mode) return;
    const r = rng(seed);
    const rows = c.M + c.xRow0;
    const x = randn(r, rows * c.K), w = randn(r, c.N * c.K, 0.5), b = randn(r, c.N);
    const X = uploadTensor(ctx, 'x', [rows, c.K], x); // (rows, K) f32
    const XH = createTensorF16(ctx, 'x f16', [rows, c.K]); // (rows, K) f16
    const W = uploadTensorF16(ctx, 'w', [c.N, c.K], toF16(w)); // (N, K) f16
    const B = c.bias ? uploadTensor(ctx, 'b', [c.N], b) : undefined; // (N) f32
    const xr = roundAllF16(x), wr = roundAllF16(w);
    let ran = 0;
    try {
      await checked(ctx.device, 'x to f16', () => run(ctx, [toF16Dispatch(ctx, X, XH)]));
      for (const cand of mode === 'real' ? MATMUL_CANDIDATES : EMULATED) {
        const unfit = candidateUnfit(ctx, cand, c.M, c.N, c.K);
        if (unfit) { console.log(`${cand.name}: not run (${unfit})`); continue; }
        const Y = createTensor(ctx, 'y', [c.M, c.N], true); // (M, N) f32, NaN-poisoned
        try {
          await checked(ctx.device, cand.name, () => run(ctx, [matmulFastDispatch(ctx, mode, cand, { x: cand.xF16 ? XH : X, w: W, bias: B, y: Y, xRow0: c.xRow0 })]));
          const y = await readTensor(ctx, Y);
          let worst = 0;
          for (let i = 0; i < c.M; i++) {
            for (let j = 0; j < c.N; j++) {
              let ref = c.bias ? b[j] : 0, mag = c.bias ? Math.abs(b[j]) : 0;
              for (let k = 0; k < c.K; k++) { const pr = xr[(i + c.xRow0) * c.K + k] * wr[j * c.K + k]; ref += pr; mag += Math.abs(pr); }
              const got = y[i * c.N + j];
              assert.ok(Number.isFinite(got), `${cand.name}: y[${i}, ${j}] is ${got}`);
              worst = Math.max(worst, Math.abs(got - ref) / mag);
            }
          }
          console.log(`${cand.name}: worst |error| / sum |x w| = ${worst.toExponential(2)} (bound ${TOL})`);
          assert.ok(worst <= TOL, `${cand.name}: worst relative error ${worst} above ${TOL}`);
          ran++;
        } finally {
          destroyAll(Y);
        }
      }
      assert.ok(ran > 0, 'no candidate fitted this case');
    } finally {
      destroyAll(X, XH, W, B);
    }
  });
}
