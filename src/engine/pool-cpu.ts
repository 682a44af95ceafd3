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
