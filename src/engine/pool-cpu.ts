// Block-max pooling of one head's (S, S) attention on the host, for the component stories' fixed
// maps. The studio itself pools on the GPU (gpu/sample/pool).
import type { PooledMap } from './types';

export function poolMax(probs: Float32Array, head: number, S: number, bins: number): PooledMap {
  const block = Math.max(1, Math.ceil(S / bins));
  const n = Math.ceil(S / block);
  const values = new Float32Array(n * n);
  const base = head * S * S;
  for (let i = 0; i < S; i++) {
    const a = Math.floor(i / block);
    for (let j = 0; j <= i; j++) {
      const b = Math.floor(j / block);
      const v = probs[base + i * S + j];
      if (v > values[a * n + b]) values[a * n + b] = v;
    }
  }
  return { values, rows: n, cols: n, block };
}

/** Float64 reference of the GPU pooling kernel (gpu/sample/pool.wgsl) for one head: the four planes
 * (max P, sum P, kept fraction, missed mass) of a (rows, cols) grid of block x block cells over the
 * viewport rows [r0, r1) x keys [c0, c1), from the exact P of each row (`row(i)`, length >= i + 1)
 * and the mask test `kept(i, j)`. Cells past the viewport's edge are clipped; masked (j > i)
 * entries count nowhere, so a cell wholly above the diagonal is all zeros. */
export function poolViewportReference(
  row: (i: number) => ArrayLike<number>,
  kept: (i: number, j: number) => boolean,
  grid: { rows: number; cols: number; block: number; viewport: { r0: number; r1: number; c0: number; c1: number } },
): [maxP: Float64Array, sumP: Float64Array, keptFraction: Float64Array, missedMass: Float64Array] {
  const { rows, cols, block, viewport: v } = grid;
  const n = rows * cols;
  const mx = new Float64Array(n), sm = new Float64Array(n), frac = new Float64Array(n), miss = new Float64Array(n);
  const causal = new Float64Array(n);
  for (let i = v.r0; i < v.r1; i++) {
    const p = row(i);
    const a = Math.floor((i - v.r0) / block);
    for (let j = v.c0; j < Math.min(v.c1, i + 1); j++) {
      const cell = a * cols + Math.floor((j - v.c0) / block);
      mx[cell] = Math.max(mx[cell], p[j]);
      sm[cell] += p[j];
      causal[cell]++;
      if (kept(i, j)) frac[cell]++;
      else miss[cell] += p[j];
    }
  }
  for (let c = 0; c < n; c++) frac[c] = causal[c] ? frac[c] / causal[c] : 0;
  return [mx, sm, frac, miss];
}
