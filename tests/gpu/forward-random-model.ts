// Tiny random checkpoints with Hugging Face tensor names for each family, held in memory as a
// WeightSource (no files), in F32, F16 or BF16. Used by the forward-pass tests.
import type { HostTensor, ModelConfig, WeightSource } from '../../src/model/config';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/model/loader/dtypes';
import { randn, rng } from '../helpers/gpu';

export type WeightDtype = 'F32' | 'F16' | 'BF16';

/** A WeightSource over a Map of name -> HostTensor. */
export function mapWeightSource(tensors: Map<string, HostTensor>): WeightSource {
  return {
    names: () => [...tensors.keys()],
    has: (name) => tensors.has(name),
    get(name) {
      const t = tensors.get(name);
      if (!t) throw new Error(`test weights: no tensor ${name}`);
      return t;
    },
  };
}

export function encodeTensor(name: string, shape: number[], values: Float32Array, dtype: WeightDtype): HostTensor {
  if (dtype === 'F32') return { name, dtype, shape, bytes: new Uint8Array(values.slice().buffer) };
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = dtype === 'F16' ? f32ToF16Bits(values[i]) : f32ToBf16Bits(values[i]);
  return { name, dtype, shape, bytes: new Uint8Array(bits.buffer) };
}

export interface TinyOptions {
  family: ModelConfig['family'];
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  inter?: number;
  vocab?: number;
  maxPositions?: number;
  tied?: boolean;
  rope?: ModelConfig['rope'];
  act?: ModelConfig['act'];
  attentionBias?: boolean;
  mlpBias?: boolean;
}

/** A ModelConfig of the family's shape, as the loader would produce it for such a config.json. */
export function tinyConfig(o: TinyOptions): ModelConfig {
  const hidden = o.hidden ?? 40;
  const heads = o.heads ?? 4;
  const gpt2 = o.family === 'gpt2';
  return {
    family: o.family,
    modelType: o.family,
    vocabSize: o.vocab ?? 101,
    hiddenSize: hidden,
    numLayers: o.layers ?? 2,
    numHeads: heads,
    numKvHeads: gpt2 ? heads : o.kvHeads ?? 2,
    headDim: gpt2 ? hidden / heads : o.headDim ?? hidden / heads,
    intermediateSize: o.inter ?? 72,
    maxPositions: o.maxPositions ?? 64,
    norm: gpt2 ? 'layer' : 'rms',
    normEps: gpt2 ? 1e-5 : 1e-6,
    act: o.act ?? (gpt2 ? 'gelu_new' : 'silu'),
    rope: gpt2 ? null : o.rope ?? { theta: 10000, type: 'default' },
    qkvBias: gpt2 || o.family === 'qwen2' || Boolean(o.attentionBias),
    oBias: gpt2 || Boolean(o.attentionBias),
    mlpBias: gpt2 || Boolean(o.mlpBias),
    qkNorm: o.family === 'qwen3',
    tiedEmbeddings: o.tied ?? gpt2,
  };
}

/** Random HF-named tensors for `c`. Weights ~ N(0, 0.5 / sqrt(fan_in)) x a few, so activations stay
 * O(1) and attention maps are neither uniform nor one-hot; norm weights around 1. */
export function tinyWeights(c: ModelConfig, seed: number, dtype: WeightDtype = 'F32', opts: { prefix?: boolean } = {}): Map<string, HostTensor> {
  const r = rng(seed);
  const m = new Map<string, HostTensor>();
  const put = (name: string, shape: number[], values: Float32Array) => m.set(name, encodeTensor(name, shape, values, dtype));
  const mat = (name: string, shape: number[], fanIn: number) => put(name, shape, randn(r, shape[0] * shape[1], 1.5 / Math.sqrt(fanIn)));
  const vec = (name: string, n: number, mean = 0, std = 0.1) => put(name, [n], randn(r, n, std).map((v) => v + mean));
  const H = c.hiddenSize, hd = c.headDim, I = c.intermediateSize, qDim = c.numHeads * hd, kvDim = c.numKvHeads * hd;
  if (c.family === 'gpt2') {
    const p = opts.prefix === false ? '' : 'transformer.';
    mat(p + 'wte.weight', [c.vocabSize, H], 1);
    mat(p + 'wpe.weight', [c.maxPositions, H], 4);
    for (let i = 0; i < c.numLayers; i++) {
      const b = `${p}h.${i}.`;
      vec(b + 'ln_1.weight', H, 1); vec(b + 'ln_1.bias', H);
      mat(b + 'attn.c_attn.weight', [H, 3 * H], H); vec(b + 'attn.c_attn.bias', 3 * H);
      mat(b + 'attn.c_proj.weight', [H, H], H); vec(b + 'attn.c_proj.bias', H);
      vec(b + 'ln_2.weight', H, 1); vec(b + 'ln_2.bias', H);
      mat(b + 'mlp.c_fc.weight', [H, I], H); vec(b + 'mlp.c_fc.bias', I);
      mat(b + 'mlp.c_proj.weight', [I, H], I); vec(b + 'mlp.c_proj.bias', H);
      // GPT-2 checkpoints carry the causal-mask buffer too; the builder must ignore it.
      put(b + 'attn.bias', [1, 1], new Float32Array([1]));
    }
    vec(p + 'ln_f.weight', H, 1); vec(p + 'ln_f.bias', H);
  } else {
    const p = opts.prefix === false ? '' : 'model.';
    mat(p + 'embed_tokens.weight', [c.vocabSize, H], 1);
    for (let i = 0; i < c.numLayers; i++) {
      const b = `${p}layers.${i}.`;
      vec(b + 'input_layernorm.weight', H, 1);
      for (const [x, out] of [['q', qDim], ['k', kvDim], ['v', kvDim]] as const) {
        mat(`${b}self_attn.${x}_proj.weight`, [out, H], H);
        if (c.qkvBias) vec(`${b}self_attn.${x}_proj.bias`, out, 0, 0.3);
      }
      mat(b + 'self_attn.o_proj.weight', [H, qDim], qDim);
      if (c.oBias) vec(b + 'self_attn.o_proj.bias', H);
      if (c.qkNorm) { vec(b + 'self_attn.q_norm.weight', hd, 1, 0.3); vec(b + 'self_attn.k_norm.weight', hd, 1, 0.3); }
      vec(b + 'post_attention_layernorm.weight', H, 1);
      mat(b + 'mlp.gate_proj.weight', [I, H], H);
      mat(b + 'mlp.up_proj.weight', [I, H], H);
      mat(b + 'mlp.down_proj.weight', [H, I], I);
      if (c.mlpBias) { vec(b + 'mlp.gate_proj.bias', I); vec(b + 'mlp.up_proj.bias', I); vec(b + 'mlp.down_proj.bias', H); }
    }
    vec(p + 'norm.weight', H, 1);
  }
  if (!c.tiedEmbeddings) mat('lm_head.weight', [c.vocabSize, H], H);
  return m;
}
