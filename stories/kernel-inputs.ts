// Seeded inputs and error measures for the kernel stories, in the browser. The generator, the
// attention inputs and the error measures are the project's own (src/util/), shared with the GPU
// tests, so a seed means the same numbers in both.
import { mulberry32, randn } from '../src/util/random';
import { inMask, keySetOf } from '../src/sampleattention/spec/mask';

export { randn };
export const rng = mulberry32;

export type Pattern = 'random' | 'structured';

/** A (rows, cols) matrix: N(0, 1) noise, or for 'structured' smooth waves along both axes with a
 * little noise and a few loud rows, so the pictures show what the kernel does to structure. */
export function matrixInput(r: () => number, rows: number, cols: number, pattern: Pattern): Float32Array {
  const x = randn(r, rows * cols);
  if (pattern === 'random') return x;
  const loud = new Set(Array.from({ length: Math.max(1, Math.floor(rows / 25)) }, () => Math.floor(r() * rows)));
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      const wave = Math.sin((2 * Math.PI * i) / Math.max(8, rows / 3) + c * 0.35) * Math.cos((2 * Math.PI * c) / Math.max(6, cols / 2));
      x[i * cols + c] = (loud.has(i) ? 4 : 1) * wave + 0.1 * x[i * cols + c];
    }
  }
  return x;
}

export { attentionInputs, type AttentionInputs } from '../src/util/attention-inputs';
import type { AttentionInputs } from '../src/util/attention-inputs';

/** Kept keys for the sparse stories: the sinks ('structured') or each key with probability 0.15. */
export function keysFor(seed: number, heads: number, S: number, x: AttentionInputs, pattern: Pattern): number[][] {
  const r = rng(seed ^ 0x1234567);
  return Array.from({ length: heads }, () =>
    pattern === 'structured' ? [...x.sinks].sort((a, b) => a - b) : Array.from({ length: S }, (_, j) => j).filter(() => r() < 0.15),
  );
}

export { maxAbsError, relError } from '../src/util/errors';

/** Head h of a (heads, rows, cols) array, copied as f32 for drawing. */
export function slab(x: ArrayLike<number>, h: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let t = 0; t < rows * cols; t++) out[t] = x[h * rows * cols + t];
  return out;
}

/** The causal attention map P (S, S) of one head in float64, for drawing (zeros above the diagonal). */
export function probabilityMap(q: ArrayLike<number>, k: ArrayLike<number>, S: number, d: number, row: (q: ArrayLike<number>, k: ArrayLike<number>, S: number, d: number, i: number) => Float64Array, rows?: readonly number[]): Float32Array {
  const P = new Float32Array(S * S);
  for (const i of rows ?? Array.from({ length: S }, (_, t) => t)) {
    const p = row(q, k, S, d, i);
    for (let j = 0; j <= i; j++) P[i * S + j] = p[j];
  }
  return P;
}

/** The mask M (S, S) of one head as 0/1, for drawing. */
export function maskMap(S: number, w: number, keys: readonly number[]): Float32Array {
  const set = keySetOf(keys, S);
  const M = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) M[i * S + j] = inMask(i, j, w, set) ? 1 : 0;
  return M;
}

/** Natural log of sum of exp over the given scores (float64, max-shifted). */
export function logSumExp(s: ArrayLike<number>, keep?: (j: number) => boolean): number {
  let m = -Infinity;
  for (let j = 0; j < s.length; j++) if ((!keep || keep(j)) && s[j] > m) m = s[j];
  let z = 0;
  for (let j = 0; j < s.length; j++) if (!keep || keep(j)) z += Math.exp(s[j] - m);
  return m + Math.log(z);
}
