// Inputs for the attention / SampleAttention GPU tests: random heads and "structured" heads where a
// few keys are strong sinks (every query attends to them), so stage 2 keeps few keys.
import { randn, rng } from '../helpers/gpu';

export interface AttentionInputs {
  q: Float32Array; // (heads, S, d)
  k: Float32Array; // (kvHeads, S, d)
  v: Float32Array; // (kvHeads, S, d)
  sinks: number[];
}

export function attentionInputs(seed: number, heads: number, kvHeads: number, S: number, d: number, pattern: 'random' | 'structured' = 'random'): AttentionInputs {
  const r = rng(seed);
  const q = randn(r, heads * S * d);
  const k = randn(r, kvHeads * S * d);
  const v = randn(r, kvHeads * S * d);
  const sinks: number[] = [];
  if (pattern === 'structured') {
    // Key 0 and a few random keys share a direction u with every query: their scores stand out by
    // ~strength, so each row's softmax mass concentrates on them (plus its own noise).
    sinks.push(0);
    const extra = Math.max(1, Math.floor(S / 40));
    while (sinks.length < extra + 1) {
      const j = Math.floor(r() * S);
      if (!sinks.includes(j)) sinks.push(j);
    }
    const u = randn(r, d);
    let norm = 0;
    for (const x of u) norm += x * x;
    norm = Math.sqrt(norm);
    const strength = 5 * Math.sqrt(d); // sink score stands ~5 above the rest after the 1/sqrt(d) scale
    for (let h = 0; h < heads; h++) for (let i = 0; i < S; i++) for (let c = 0; c < d; c++) q[(h * S + i) * d + c] = 0.3 * q[(h * S + i) * d + c] + u[c] / norm * Math.sqrt(strength);
    for (let g = 0; g < kvHeads; g++) for (const j of sinks) for (let c = 0; c < d; c++) k[(g * S + j) * d + c] += u[c] / norm * Math.sqrt(strength);
  }
  return { q, k, v, sinks };
}
