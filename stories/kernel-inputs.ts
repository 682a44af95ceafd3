// Seeded inputs and error measures for the kernel stories, in the browser. The generator is the
// project's one (src/util/random.ts), so a seed means the same numbers as in the GPU tests; the
// input shapes and error measures repeat a few lines of tests/helpers/gpu.ts and
// tests/gpu/sample-inputs.ts, which import the Node WebGPU binding and cannot be bundled for the browser.
import { mulberry32, randn } from '../src/util/random';

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

export interface AttentionInputs {
  q: Float32Array; // (heads, S, d)
  k: Float32Array; // (kvHeads, S, d)
  v: Float32Array; // (kvHeads, S, d)
  /** Keys every query attends to strongly ('structured' only). */
  sinks: number[];
}

/** Random heads, or 'structured' heads where key 0 and a few random keys are sinks that every
 * query attends to (as in tests/gpu/sample-inputs.ts), so stage 2 keeps few keys. */
export function attentionInputs(seed: number, heads: number, kvHeads: number, S: number, d: number, pattern: Pattern): AttentionInputs {
  const r = rng(seed);
  const q = randn(r, heads * S * d);
  const k = randn(r, kvHeads * S * d);
  const v = randn(r, kvHeads * S * d);
  const sinks: number[] = [];
  if (pattern === 'structured') {
    sinks.push(0);
    const extra = Math.max(1, Math.floor(S / 40));
    while (sinks.length < Math.min(S, extra + 1)) {
      const j = Math.floor(r() * S);
      if (!sinks.includes(j)) sinks.push(j);
    }
    const u = randn(r, d);
    const norm = Math.sqrt(u.reduce((a, x) => a + x * x, 0)) || 1;
    const strength = 5 * Math.sqrt(d); // sink scores stand ~5 above the rest after the 1/sqrt(d) scale
    for (let h = 0; h < heads; h++) for (let i = 0; i < S; i++) for (let c = 0; c < d; c++) q[(h * S + i) * d + c] = 0.3 * q[(h * S + i) * d + c] + (u[c] / norm) * Math.sqrt(strength);
    for (let g = 0; g < kvHeads; g++) for (const j of sinks) for (let c = 0; c < d; c++) k[(g * S + j) * d + c] += (u[c] / norm) * Math.sqrt(strength);
  }
  return { q, k, v, sinks };
}

/** Kept keys for the sparse stories: the sinks ('structured') or each key with probability 0.15. */
export function keysFor(seed: number, heads: number, S: number, x: AttentionInputs, pattern: Pattern): number[][] {
  const r = rng(seed ^ 0x1234567);
  return Array.from({ length: heads }, () =>
    pattern === 'structured' ? [...x.sinks].sort((a, b) => a - b) : Array.from({ length: S }, (_, j) => j).filter(() => r() < 0.15),
  );
}

/** ||a - b||_F / ||b||_F in float64; NaN anywhere gives Infinity so it never passes. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (!Number.isFinite(d)) return Infinity;
    num += d * d;
    den += b[i] * b[i];
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

/** max |a - b|; NaN anywhere gives Infinity. */
export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!Number.isFinite(d)) return Infinity;
    if (d > m) m = d;
  }
  return m;
}

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
  const set = new Set(keys);
  const W = Math.max(1, w);
  const M = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) M[i * S + j] = i - j < W || set.has(j) ? 1 : 0;
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
