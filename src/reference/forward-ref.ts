// Float64 CPU references of the forward-pass kernels and of the whole forward, written from the
// transformers modelling code directly (HF tensor names and layouts, GPT-2's Conv1D (in, out)
// weights and fused c_attn used as stored), so they check the GPU path's name mapping and
// transposes as well as its arithmetic. Slow (plain loops): for small test models only.
import type { ModelConfig, RopeConfig, WeightSource } from '../model/config';
import { widenToF32 } from '../../gpu/forward/widen';
import { kvHeadOf } from '../sampleattention/spec/reference';

export type Vec = Float64Array;
type Arr = ArrayLike<number>;

/** y (M, N) = x (M, K) W^T + b, W (N, K). */
export function matmulRef(x: Arr, M: number, K: number, w: Arr, N: number, bias?: Arr): Vec {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
      y[m * N + n] = s;
    }
  }
  return y;
}

/** y (M, N) = x (M, K) W + b with W stored (K, N): GPT-2's Conv1D. */
export function conv1dRef(x: Arr, M: number, K: number, w: Arr, N: number, bias?: Arr): Vec {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[k * N + n];
      y[m * N + n] = s;
    }
  }
  return y;
}

export function rmsNormRef(x: Arr, n: number, w: Arr, eps: number): Vec {
  const rows = x.length / n;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[r * n + i] ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = w[i] * x[r * n + i] * inv;
  }
  return y;
}

export function layerNormRef(x: Arr, n: number, w: Arr, b: Arr | undefined, eps: number): Vec {
  const rows = x.length / n;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[r * n + i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[r * n + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = (x[r * n + i] - mean) * inv * w[i] + (b ? b[i] : 0);
  }
  return y;
}

export function embeddingRef(ids: ArrayLike<number>, wte: Arr, n: number, wpe?: Arr): Vec {
  const S = ids.length;
  const y = new Float64Array(S * n);
  for (let s = 0; s < S; s++) for (let i = 0; i < n; i++) y[s * n + i] = wte[ids[s] * n + i] + (wpe ? wpe[s * n + i] : 0);
  return y;
}

/** inv_freq in float64, transcribed from transformers' _compute_default_rope_parameters and
 * _compute_llama3_parameters. */
export function ropeInvFreqRef(rope: RopeConfig, hd: number): Vec {
  const half = hd / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / rope.theta ** ((2 * i) / hd);
  if (rope.type === 'default') return inv;
  const factor = rope.factor!, low = rope.lowFreqFactor!, high = rope.highFreqFactor!, old = rope.originalMaxPositionEmbeddings!;
  const lowWavelen = old / low;
  const highWavelen = old / high;
  for (let i = 0; i < half; i++) {
    const wavelen = (2 * Math.PI) / inv[i];
    if (wavelen < highWavelen) continue; // high frequency: unchanged
    if (wavelen > lowWavelen) { inv[i] /= factor; continue; } // low frequency: scaled
    const smooth = (old / wavelen - low) / (high - low);
    inv[i] = (1 - smooth) * (inv[i] / factor) + smooth * inv[i];
  }
  return inv;
}

/** x (S, heads, hd) -> (heads, S, hd), rotated by RoPE (rotate_half pairs d, d + hd/2) when inv is given. */
export function splitHeadsRef(x: Arr, S: number, heads: number, hd: number, invFreq?: Arr): Vec {
  const y = new Float64Array(S * heads * hd);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < S; s++) {
      const src = (s * heads + h) * hd;
      const dst = (h * S + s) * hd;
      for (let d = 0; d < hd; d++) {
        if (!invFreq) { y[dst + d] = x[src + d]; continue; }
        const i = d < half ? d : d - half;
        const a = s * invFreq[i];
        const rot = d < half ? -x[src + d + half] : x[src + d - half];
        y[dst + d] = x[src + d] * Math.cos(a) + rot * Math.sin(a);
      }
    }
  }
  return y;
}

export function mergeHeadsRef(x: Arr, heads: number, S: number, hd: number): Vec {
  const y = new Float64Array(S * heads * hd);
  for (let h = 0; h < heads; h++) for (let s = 0; s < S; s++) for (let d = 0; d < hd; d++) y[(s * heads + h) * hd + d] = x[(h * S + s) * hd + d];
  return y;
}

/** Causal softmax attention with GQA (head h reads kv head floor(h / (heads / kvHeads))). */
export function attentionRef(q: Arr, k: Arr, v: Arr, heads: number, kvHeads: number, S: number, hd: number, scale = 1 / Math.sqrt(hd)): { out: Vec; probs: Vec } {
  const out = new Float64Array(heads * S * hd);
  const probs = new Float64Array(heads * S * S);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    for (let i = 0; i < S; i++) {
      const row = (h * S + i) * S;
      let m = -Infinity;
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[(h * S + i) * hd + d] * k[(g * S + j) * hd + d];
        probs[row + j] = dot * scale;
        m = Math.max(m, probs[row + j]);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) { probs[row + j] = Math.exp(probs[row + j] - m); sum += probs[row + j]; }
      for (let j = 0; j <= i; j++) probs[row + j] /= sum;
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += probs[row + j] * v[(g * S + j) * hd + d];
        out[(h * S + i) * hd + d] = acc;
      }
    }
  }
  return { out, probs };
}

export const siluRef = (x: number) => x / (1 + Math.exp(-x));
export const geluNewRef = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** erf to ~1e-15: erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1 3 5 ... (2n+1)), all terms positive. */
export function erfRef(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}
export const geluErfRef = (x: number) => 0.5 * x * (1 + erfRef(x / Math.SQRT2));

export interface ForwardRefOptions {
  captureAttention?: boolean;
  captureQK?: boolean;
}

export interface ForwardRefResult {
  /** (S, vocab) */
  logits: Vec;
  /** per layer (heads, S, S) */
  attn?: Vec[];
  /** per layer (heads, S, hd), post-RoPE */
  q?: Vec[];
  /** per layer (kvHeads, S, hd), post-RoPE */
  k?: Vec[];
}

const add = (a: Vec, b: Arr) => { for (let i = 0; i < a.length; i++) a[i] += b[i]; };

/** The whole forward in float64, straight from the checkpoint tensors. */
export function forwardRef(c: ModelConfig, weights: WeightSource, ids: ArrayLike<number>, opts: ForwardRefOptions = {}): ForwardRefResult {
  const cache = new Map<string, Vec>();
  const W = (name: string): Vec => {
    let v = cache.get(name);
    if (!v) {
      const t = weights.get(name);
      v = Float64Array.from(widenToF32(t.dtype, t.bytes, t.shape.reduce((a, b) => a * b, 1), name));
      cache.set(name, v);
    }
    return v;
  };
  const gpt2 = c.family === 'gpt2';
  const pre = gpt2 ? (weights.has('wte.weight') ? '' : 'transformer.') : weights.has('embed_tokens.weight') ? '' : 'model.';
  const S = ids.length, H = c.hiddenSize, hd = c.headDim, nh = c.numHeads, nkv = c.numKvHeads, I = c.intermediateSize;
  const norm = (x: Vec, n: string, width = H) => (c.norm === 'rms' ? rmsNormRef(x, width, W(n + '.weight'), c.normEps) : layerNormRef(x, width, W(n + '.weight'), W(n + '.bias'), c.normEps));
  const invFreq = c.rope ? ropeInvFreqRef(c.rope, hd) : undefined;
  const res: ForwardRefResult = { logits: new Float64Array(0) };
  if (opts.captureAttention) res.attn = [];
  if (opts.captureQK) { res.q = []; res.k = []; }

  const x = embeddingRef(ids, W(pre + (gpt2 ? 'wte.weight' : 'embed_tokens.weight')), H, gpt2 ? W(pre + 'wpe.weight') : undefined);
  for (let l = 0; l < c.numLayers; l++) {
    let q2: Vec, k2: Vec, v2: Vec, o: Vec, mlp: Vec;
    if (gpt2) {
      const p = `${pre}h.${l}.`;
      const h = norm(x, p + 'ln_1');
      const qkv = conv1dRef(h, S, H, W(p + 'attn.c_attn.weight'), 3 * H, c.qkvBias ? W(p + 'attn.c_attn.bias') : undefined);
      q2 = new Float64Array(S * H); k2 = new Float64Array(S * H); v2 = new Float64Array(S * H);
      for (let s = 0; s < S; s++) {
        for (let i = 0; i < H; i++) {
          q2[s * H + i] = qkv[s * 3 * H + i];
          k2[s * H + i] = qkv[s * 3 * H + H + i];
          v2[s * H + i] = qkv[s * 3 * H + 2 * H + i];
        }
      }
    } else {
      const p = `${pre}layers.${l}.`;
      const h = norm(x, p + 'input_layernorm');
      const b = (n: string) => (c.qkvBias ? W(p + `self_attn.${n}_proj.bias`) : undefined);
      q2 = matmulRef(h, S, H, W(p + 'self_attn.q_proj.weight'), nh * hd, b('q'));
      k2 = matmulRef(h, S, H, W(p + 'self_attn.k_proj.weight'), nkv * hd, b('k'));
      v2 = matmulRef(h, S, H, W(p + 'self_attn.v_proj.weight'), nkv * hd, b('v'));
      if (c.qkNorm) {
        q2 = rmsNormRef(q2, hd, W(p + 'self_attn.q_norm.weight'), c.normEps);
        k2 = rmsNormRef(k2, hd, W(p + 'self_attn.k_norm.weight'), c.normEps);
      }
    }
    const q = splitHeadsRef(q2, S, nh, hd, invFreq);
    const k = splitHeadsRef(k2, S, nkv, hd, invFreq);
    const v = splitHeadsRef(v2, S, nkv, hd);
    const att = attentionRef(q, k, v, nh, nkv, S, hd);
    res.attn?.push(att.probs);
    res.q?.push(q);
    res.k?.push(k);
    const merged = mergeHeadsRef(att.out, nh, S, hd);
    if (gpt2) {
      const p = `${pre}h.${l}.`;
      o = conv1dRef(merged, S, H, W(p + 'attn.c_proj.weight'), H, c.oBias ? W(p + 'attn.c_proj.bias') : undefined);
      add(x, o);
      const h = norm(x, p + 'ln_2');
      const u = conv1dRef(h, S, H, W(p + 'mlp.c_fc.weight'), I, c.mlpBias ? W(p + 'mlp.c_fc.bias') : undefined);
      const act = c.act === 'gelu' ? geluErfRef : geluNewRef;
      for (let i = 0; i < u.length; i++) u[i] = act(u[i]);
      mlp = conv1dRef(u, S, I, W(p + 'mlp.c_proj.weight'), H, c.mlpBias ? W(p + 'mlp.c_proj.bias') : undefined);
    } else {
      const p = `${pre}layers.${l}.`;
      o = matmulRef(merged, S, nh * hd, W(p + 'self_attn.o_proj.weight'), H, c.oBias ? W(p + 'self_attn.o_proj.bias') : undefined);
      add(x, o);
      const h = norm(x, p + 'post_attention_layernorm');
      const mb = (n: string) => (c.mlpBias ? W(p + `mlp.${n}_proj.bias`) : undefined);
      const g = matmulRef(h, S, H, W(p + 'mlp.gate_proj.weight'), I, mb('gate'));
      const u = matmulRef(h, S, H, W(p + 'mlp.up_proj.weight'), I, mb('up'));
      for (let i = 0; i < g.length; i++) g[i] = siluRef(g[i]) * u[i];
      mlp = matmulRef(g, S, I, W(p + 'mlp.down_proj.weight'), H, mb('down'));
    }
    add(x, mlp);
  }
  const h = norm(x, pre + (gpt2 ? 'ln_f' : 'norm'));
  const tied = c.tiedEmbeddings || !weights.has('lm_head.weight');
  const head = tied ? W(pre + (gpt2 ? 'wte.weight' : 'embed_tokens.weight')) : W('lm_head.weight');
  res.logits = matmulRef(h, S, H, head, c.vocabSize);
  return res;
}
