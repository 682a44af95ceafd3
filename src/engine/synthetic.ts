// Synthetic post-RoPE q/k with the structure real heads show (an attention sink at token 0, a
// local band from rotary-like position codes, a few column stripes), used only when the checkout
// has no forward pass yet, so the studio's views can still be exercised. The UI says so.
import type { Capture } from './forward-port';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

export function syntheticCapture(layers: number, heads: number, kvHeads: number, S: number, d: number, seed = 7): Capture {
  const q: Float32Array[] = [];
  const k: Float32Array[] = [];
  const v: Float32Array[] = [];
  const group = heads / kvHeads;
  for (let l = 0; l < layers; l++) {
    const r = rng(seed + 101 * l);
    const ql = new Float32Array(heads * S * d);
    const kl = new Float32Array(kvHeads * S * d);
    const vl = new Float32Array(kvHeads * S * d);
    for (let g = 0; g < kvHeads; g++) {
      const stripes = new Set(Array.from({ length: 2 + Math.floor(r() * 4) }, () => Math.floor(r() * S)));
      for (let j = 0; j < S; j++) {
        const base = (g * S + j) * d;
        for (let c = 0; c < d; c++) {
          kl[base + c] = (r() - 0.5) * 0.6;
          vl[base + c] = r() - 0.5;
        }
        // Dimension 0 carries the sink and the stripes; pairs from 2 on carry position codes.
        kl[base] = j === 0 ? 6 : stripes.has(j) ? 3.5 : 0;
        for (let c = 2; c + 1 < d; c += 2) {
          const theta = j / Math.pow(40, c / d);
          kl[base + c] += Math.cos(theta) * 1.2;
          kl[base + c + 1] += Math.sin(theta) * 1.2;
        }
      }
    }
    for (let h = 0; h < heads; h++) {
      const local = 0.5 + 2.5 * ((h * 7 + l * 3) % 5) / 4; // heads differ in how local they are
      const sink = 0.4 + ((h + l) % 3) * 0.5;
      for (let i = 0; i < S; i++) {
        const base = (h * S + i) * d;
        for (let c = 0; c < d; c++) ql[base + c] = (r() - 0.5) * 0.6;
        ql[base] = sink * 1.5;
        for (let c = 2; c + 1 < d; c += 2) {
          const theta = i / Math.pow(40, c / d);
          ql[base + c] += Math.cos(theta) * local;
          ql[base + c + 1] += Math.sin(theta) * local;
        }
      }
    }
    void group;
    q.push(ql);
    k.push(kl);
    v.push(vl);
  }
  return { q, k, v };
}
