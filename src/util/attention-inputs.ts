// Attention inputs for tests and stories: random heads, or 'structured' heads where key 0 and a
// few random keys are sinks every query attends to, so stage 2 keeps few keys.
import { mulberry32, randn } from './random';

export interface AttentionInputs {
  q: Float32Array; // (heads, S, d)
  k: Float32Array; // (kvHeads, S, d)
  v: Float32Array; // (kvHeads, S, d)
  /** Keys every query attends to strongly ('structured' only). */
  sinks: number[];
}

export function attentionInputs(seed: number, heads: number, kvHeads: number, S: number, d: number, pattern: 'random' | 'structured' = 'random'): AttentionInputs {
  const r = mulberry32(seed);
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
