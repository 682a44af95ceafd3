// Tensor-core tests: which path runs here, and the f16 rounding the kernels apply to their inputs.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { GpuContext } from '../../gpu/device';
import { missingForTensorCores, tensorCoreMode, type TensorCoreMode } from '../../gpu/tensorcore/support';
import { f16Bits } from '../../gpu/tensorcore/half';
import { f16ToNumber } from '../../gpu/forward/widen';

/** The mode to test, or null after printing and marking why the test is skipped (never a pass). */
export function tensorCoreModeOrSkip(t: TestContext, ctx: GpuContext): TensorCoreMode | null {
  const mode = tensorCoreMode(ctx);
  if (mode) {
    console.log(`tensor-core path: ${mode === 'real' ? 'real subgroup matrices' : 'EMULATED subgroup matrices (SA_STUDIO_EMULATE_TENSOR_CORES=1; layout and masking tested, not the hardware)'}`);
    return mode;
  }
  const why = `skipped: this adapter lacks ${missingForTensorCores(ctx).join(', ')}; the f16 tensor-core kernels cannot run here (on the H200: see docs/benchmarks.md; with Mesa lavapipe set SA_STUDIO_EMULATE_TENSOR_CORES=1)`;
  console.log(why);
  t.skip(why);
  return null;
}

/** x rounded to f16 and back, as the kernels read it. */
export const roundF16 = (x: number): number => f16ToNumber(f16Bits(x));

export function roundAllF16(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a as ArrayLike<number>, roundF16);
}

/** Float64 masked causal attention of one head on given (already f16-rounded) q, k, v (S, d): per
 * row i the softmax over the keys j <= i with keep(i, j), its output, lse and the rounding bound
 * 2^-10 * sum_j p_ij |v_jc| / sum_j p_ij that f16 probabilities (relative error <= 2^-11) allow,
 * doubled for margin. Rows with no kept key get lse -Infinity and are not compared. */
export function maskedAttention(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, S: number, d: number, scale: number, keep: (i: number, j: number) => boolean) {
  const out = new Float64Array(S * d), bound = new Float64Array(S * d), lse = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    const s = new Float64Array(i + 1);
    let m = -Infinity;
    for (let j = 0; j <= i; j++) {
      if (!keep(i, j)) { s[j] = NaN; continue; }
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[i * d + c] * k[j * d + c];
      s[j] = scale * dot;
      if (s[j] > m) m = s[j];
    }
    let z = 0;
    for (let j = 0; j <= i; j++) if (!Number.isNaN(s[j])) z += Math.exp(s[j] - m);
    lse[i] = m + Math.log(z);
    for (let j = 0; j <= i; j++) {
      if (Number.isNaN(s[j])) continue;
      const pj = Math.exp(s[j] - m) / z;
      for (let c = 0; c < d; c++) { out[i * d + c] += pj * v[j * d + c]; bound[i * d + c] += 2 ** -10 * pj * Math.abs(v[j * d + c]); }
    }
  }
  return { out, lse, bound };
}

/** Asserts every output element of the rows `rows(i)` of one head (at `base` in `got`) is finite and
 * within its bound (maskedAttention's, plus 1e-6) of the float64 reference; returns the worst
 * error as a fraction of its bound. */
export function compareWithinBound(what: string, got: Float32Array, ref: Float64Array, bound: Float64Array, rows: (i: number) => boolean, S: number, d: number, base: number): number {
  let worst = 0;
  for (let i = 0; i < S; i++) {
    if (!rows(i)) continue;
    for (let c = 0; c < d; c++) {
      const g = got[base + i * d + c];
      assert.ok(Number.isFinite(g), `${what}: out[${i}, ${c}] is ${g}`);
      const e = Math.abs(g - ref[i * d + c]) / (bound[i * d + c] + 1e-6);
      worst = Math.max(worst, e);
    }
  }
  assert.ok(worst <= 1, `${what}: worst error is ${worst.toFixed(2)} x the f16 bound`);
  return worst;
}
