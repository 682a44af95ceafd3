// Float64 CPU references of the forward-pass kernels in gpu/model/, for tests and stories.
import type { RopeConfig } from '../model/config';

/** y (M, N) = x (M, K) . w (N, K)^T + b. */
export function matmulRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = b ? b[n] : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
      y[m * N + n] = s;
    }
  return y;
}

export function normRef(kind: 'rms' | 'layer', x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined, rows: number, n: number, eps: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    if (kind === 'layer') {
      for (let i = 0; i < n; i++) mean += x[r * n + i];
      mean /= n;
    }
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (x[r * n + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = (x[r * n + i] - mean) * inv * w[i] + (kind === 'layer' ? b![i] : 0);
  }
  return y;
}

/** transformers' inverse frequencies (float64 here), with llama3 rescaling. */
export function invFreqRef(rope: RopeConfig, hd: number): Float64Array {
  const half = hd / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    let f = 1 / Math.pow(rope.theta, (2 * i) / hd);
    if (rope.type === 'llama3') {
      const factor = rope.factor!, low = rope.lowFreqFactor!, high = rope.highFreqFactor!, old = rope.originalMaxPositionEmbeddings!;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > old / low) f = f / factor;
      else if (wavelen >= old / high) {
        const smooth = (old / wavelen - low) / (high - low);
        f = (1 - smooth) * (f / factor) + smooth * f;
      }
    }
    inv[i] = f;
  }
  return inv;
}

/** (S, H*hd) -> (H, S, hd) with optional per-head RMSNorm and RoPE (rotate_half pairs t, t + hd/2). */
export function splitHeadsRef(x: ArrayLike<number>, S: number, H: number, hd: number, o: { normW?: ArrayLike<number>; eps?: number; rope?: RopeConfig }): Float64Array {
  const out = new Float64Array(H * S * hd);
  const inv = o.rope ? invFreqRef(o.rope, hd) : undefined;
  const half = hd / 2;
  for (let s = 0; s < S; s++)
    for (let h = 0; h < H; h++) {
      const v = Array.from({ length: hd }, (_, t) => x[s * H * hd + h * hd + t]);
      if (o.normW) {
        const ms = v.reduce((a, b) => a + b * b, 0) / hd;
        const r = 1 / Math.sqrt(ms + o.eps!);
        for (let t = 0; t < hd; t++) v[t] = v[t] * r * o.normW[t];
      }
      for (let t = 0; t < hd; t++) {
        let y = v[t];
        if (inv) {
          const a = s * inv[t % half];
          y = t < half ? v[t] * Math.cos(a) - v[t + half] * Math.sin(a) : v[t] * Math.cos(a) + v[t - half] * Math.sin(a);
        }
        out[(h * S + s) * hd + t] = y;
      }
    }
  return out;
}

export const siluMulRef = (g: number, u: number) => (g / (1 + Math.exp(-g))) * u;
export const geluTanhRef = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** erf by its Maclaurin series (|x| < 3) or continued fraction tail: float64-accurate. */
export function erfRef(x: number): number {
  const z = Math.abs(x);
  if (z < 3) {
    let sum = 0, term = z;
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-z * z) / (n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (z + f);
  return Math.sign(x) * (1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f));
}
export const geluErfRef = (x: number) => 0.5 * x * (1 + erfRef(x / Math.SQRT2));

/** Causal softmax probabilities (H, S, S) of q (H, S, d) against k (KV, S, d). */
export function attentionProbsRef(q: ArrayLike<number>, k: ArrayLike<number>, H: number, KV: number, S: number, d: number, scale: number): Float64Array {
  const P = new Float64Array(H * S * S);
  const g = H / KV;
  for (let h = 0; h < H; h++)
    for (let i = 0; i < S; i++) {
      const s = new Float64Array(i + 1);
      let m = -Infinity;
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[(h * S + i) * d + c] * k[(Math.floor(h / g) * S + j) * d + c];
        s[j] = dot * scale;
        m = Math.max(m, s[j]);
      }
      let z = 0;
      for (let j = 0; j <= i; j++) z += Math.exp(s[j] - m);
      for (let j = 0; j <= i; j++) P[(h * S + i) * S + j] = Math.exp(s[j] - m) / z;
    }
  return P;
}
