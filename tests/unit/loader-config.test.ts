// config.json -> ModelConfig for each family, in the older keys (as the configs on the Hub are
// written: rope_theta + rope_scaling) and the current transformers keys (rope_parameters), plus
// validation errors. The inline configs copy the real config.json files of the named models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import type { ModelConfig } from '../../src/model/config';
import { parseModelConfig } from '../../src/model/loader/model-config';

type Cfg = Record<string, unknown>;

/** The same config with the current keys: rope settings (theta included) inside rope_parameters. */
function currentStyle(legacy: Cfg): Cfg {
  const { rope_theta, rope_scaling, ...rest } = legacy;
  const scaling = (rope_scaling ?? { rope_type: 'default' }) as Cfg;
  const { type, ...params } = scaling;
  return { ...rest, rope_parameters: { rope_type: type ?? params.rope_type, ...params, rope_theta: rope_theta ?? 10000 } };
}

const llama32_1b: Cfg = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001,
  head_dim: 64, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072,
  mlp_bias: false, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.45.0.dev0', use_cache: true, vocab_size: 128256,
};
// Llama-3.2-1B as transformers 5 writes it (written out, not derived, to pin the key layout).
const llama32_1b_current: Cfg = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001,
  head_dim: 64, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, max_position_embeddings: 131072,
  mlp_bias: false, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_parameters: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_theta: 500000.0, rope_type: 'llama3' },
  tie_word_embeddings: true, dtype: 'bfloat16', transformers_version: '5.0.0', use_cache: true, vocab_size: 128256,
};
const llama2_7b: Cfg = {
  architectures: ['LlamaForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096, initializer_range: 0.02,
  intermediate_size: 11008, max_position_embeddings: 4096, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 32,
  num_key_value_heads: 32, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_scaling: null, tie_word_embeddings: false, torch_dtype: 'float16',
  transformers_version: '4.31.0.dev0', use_cache: true, vocab_size: 32000,
};
const mistral_7b: Cfg = {
  architectures: ['MistralForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096, initializer_range: 0.02,
  intermediate_size: 14336, max_position_embeddings: 32768, model_type: 'mistral', num_attention_heads: 32, num_hidden_layers: 32,
  num_key_value_heads: 8, rms_norm_eps: 1e-5, rope_theta: 10000.0, sliding_window: 4096, tie_word_embeddings: false, torch_dtype: 'bfloat16',
  transformers_version: '4.34.0.dev0', use_cache: true, vocab_size: 32000,
};
const qwen2_05b: Cfg = {
  architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643, hidden_act: 'silu', hidden_size: 896,
  initializer_range: 0.02, intermediate_size: 4864, max_position_embeddings: 131072, max_window_layers: 24, model_type: 'qwen2',
  num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: 131072,
  tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.40.1', use_cache: true, use_sliding_window: false, vocab_size: 151936,
};
const qwen3_06b: Cfg = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645, head_dim: 128,
  hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02, intermediate_size: 3072, max_position_embeddings: 40960, max_window_layers: 28,
  model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null,
  rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.51.0', use_cache: true,
  use_sliding_window: false, vocab_size: 151936,
};
const qwen3_06b_current: Cfg = {
  ...Object.fromEntries(Object.entries(qwen3_06b).filter(([k]) => k !== 'rope_theta' && k !== 'rope_scaling')),
  rope_parameters: { rope_theta: 1000000, rope_type: 'default' },
};
const gpt2: Cfg = {
  activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: 50256, embd_pdrop: 0.1, eos_token_id: 50256,
  initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2', n_ctx: 1024, n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024,
  resid_pdrop: 0.1, summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index',
  summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } }, vocab_size: 50257,
};

const llamaBase = { norm: 'rms', act: 'silu', qkvBias: false, oBias: false, mlpBias: false, qkNorm: false } as const;
const expected: Array<[string, Cfg, Cfg, ModelConfig]> = [
  ['Llama-3.2-1B', llama32_1b, llama32_1b_current, {
    ...llamaBase, family: 'llama', modelType: 'llama', vocabSize: 128256, hiddenSize: 2048, numLayers: 16, numHeads: 32, numKvHeads: 8, headDim: 64,
    intermediateSize: 8192, maxPositions: 131072, normEps: 1e-5, tiedEmbeddings: true, bosTokenId: 128000, eosTokenId: 128001,
    rope: { theta: 500000, type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
  }],
  ['Llama-2-7b', llama2_7b, currentStyle(llama2_7b), {
    ...llamaBase, family: 'llama', modelType: 'llama', vocabSize: 32000, hiddenSize: 4096, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128,
    intermediateSize: 11008, maxPositions: 4096, normEps: 1e-5, tiedEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
    rope: { theta: 10000, type: 'default' },
  }],
  ['Mistral-7B-v0.1', mistral_7b, currentStyle(mistral_7b), {
    ...llamaBase, family: 'mistral', modelType: 'mistral', vocabSize: 32000, hiddenSize: 4096, numLayers: 32, numHeads: 32, numKvHeads: 8, headDim: 128,
    intermediateSize: 14336, maxPositions: 32768, normEps: 1e-5, tiedEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
    rope: { theta: 10000, type: 'default' },
  }],
  ['Qwen2-0.5B', qwen2_05b, currentStyle(qwen2_05b), {
    ...llamaBase, qkvBias: true, family: 'qwen2', modelType: 'qwen2', vocabSize: 151936, hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2,
    headDim: 64, intermediateSize: 4864, maxPositions: 131072, normEps: 1e-6, tiedEmbeddings: true, bosTokenId: 151643, eosTokenId: 151643,
    rope: { theta: 1000000, type: 'default' },
  }],
  ['Qwen3-0.6B', qwen3_06b, qwen3_06b_current, {
    ...llamaBase, qkNorm: true, family: 'qwen3', modelType: 'qwen3', vocabSize: 151936, hiddenSize: 1024, numLayers: 28, numHeads: 16, numKvHeads: 8,
    headDim: 128, intermediateSize: 3072, maxPositions: 40960, normEps: 1e-6, tiedEmbeddings: true, bosTokenId: 151643, eosTokenId: 151645,
    rope: { theta: 1000000, type: 'default' },
  }],
  ['gpt2', gpt2, gpt2, {
    family: 'gpt2', modelType: 'gpt2', vocabSize: 50257, hiddenSize: 768, numLayers: 12, numHeads: 12, numKvHeads: 12, headDim: 64,
    intermediateSize: 3072, maxPositions: 1024, norm: 'layer', normEps: 1e-5, act: 'gelu_new', rope: null, qkvBias: true, oBias: true,
    mlpBias: true, qkNorm: false, tiedEmbeddings: true, bosTokenId: 50256, eosTokenId: 50256,
  }],
];

for (const [name, legacy, current, want] of expected) {
  test(`config: ${name} (older keys and current keys)`, () => {
    assert.deepEqual(parseModelConfig(legacy), want, 'older keys');
    assert.deepEqual(parseModelConfig(current), want, 'current keys');
  });
}

test('config: family defaults and flags', () => {
  const { num_key_value_heads: _kv, head_dim: _hd, tie_word_embeddings: _t, ...bare } = llama32_1b;
  const c = parseModelConfig(bare);
  assert.equal(c.numKvHeads, 32, 'num_key_value_heads defaults to num_attention_heads');
  assert.equal(c.headDim, 2048 / 32, 'head_dim defaults to hidden/heads');
  assert.equal(c.tiedEmbeddings, false, 'llama: untied unless set');
  const biased = parseModelConfig({ ...llama2_7b, attention_bias: true, mlp_bias: true });
  assert.deepEqual([biased.qkvBias, biased.oBias, biased.mlpBias], [true, true, true]);
  const q3 = parseModelConfig({ ...qwen3_06b, attention_bias: true });
  assert.deepEqual([q3.qkvBias, q3.oBias], [true, true]);
  const { tie_word_embeddings: _g, n_ctx: _c, ...gptBare } = gpt2;
  const g = parseModelConfig({ ...gptBare, n_inner: 1000, activation_function: 'gelu_pytorch_tanh' });
  assert.equal(g.tiedEmbeddings, true, 'gpt2: tied unless set');
  assert.equal(g.intermediateSize, 1000);
  assert.equal(g.act, 'gelu_new');
  assert.equal(parseModelConfig({ ...gpt2, n_inner: null }).intermediateSize, 4 * 768, 'n_inner null means 4 * n_embd');
  assert.equal(parseModelConfig({ ...llama32_1b, eos_token_id: [128001, 128008, 128009] }).eosTokenId, 128001);
  // Older scaling dicts say "type" instead of "rope_type".
  const { rope_type: _rt, ...scaling } = llama32_1b.rope_scaling as Cfg;
  assert.equal(parseModelConfig({ ...llama32_1b, rope_scaling: { ...scaling, type: 'llama3' } }).rope?.type, 'llama3');
});

test('config: errors say what is wrong and what is supported', () => {
  const bad: Array<[Cfg, RegExp]> = [
    [{ ...llama2_7b, model_type: 'bert' }, /model_type "bert" is not supported\. Supported model types: llama, mistral, qwen2, qwen3, gpt2/],
    [{ hidden_size: 8 }, /"model_type" is missing/],
    [{ ...llama2_7b, rope_scaling: { type: 'yarn', factor: 4 } }, /RoPE type "yarn" \(rope_scaling\.\) is not supported\. Supported RoPE types: default, llama3/],
    [{ ...currentStyle(llama2_7b), rope_parameters: { rope_type: 'dynamic', factor: 2, rope_theta: 1e4 } }, /RoPE type "dynamic" \(rope_parameters\.\) is not supported/],
    [{ ...llama32_1b, rope_scaling: { rope_type: 'llama3', factor: 32 } }, /RoPE type llama3 needs "rope_scaling\.low_freq_factor"/],
    [{ ...llama2_7b, num_key_value_heads: 5 }, /"num_key_value_heads" \(5\) must divide "num_attention_heads" \(32\)/],
    [{ ...llama2_7b, num_attention_heads: 48, num_key_value_heads: 48 }, /"num_attention_heads" \(48\) must divide "hidden_size" \(4096\)/],
    [{ ...gpt2, n_head: 7 }, /"n_head" \(7\) must divide "n_embd" \(768\)/],
    [{ ...llama2_7b, hidden_size: 4096.5 }, /"hidden_size" must be a positive integer, got 4096\.5/],
    [{ ...llama2_7b, num_hidden_layers: 0 }, /"num_hidden_layers" must be a positive integer, got 0/],
    [{ ...llama2_7b, intermediate_size: undefined }, /"intermediate_size" is missing/],
    [{ ...llama2_7b, rms_norm_eps: -1 }, /"rms_norm_eps" must be a positive number/],
    [{ ...llama2_7b, hidden_act: 'gelu' }, /hidden_act "gelu" is not supported for llama/],
    [{ ...gpt2, activation_function: 'relu' }, /activation_function "relu" is not supported for gpt2/],
    [{ ...qwen2_05b, use_sliding_window: true }, /use_sliding_window=true is not supported/],
  ];
  for (const [cfg, re] of bad) assert.throws(() => parseModelConfig(cfg, 'm/config.json'), (e: Error) => e.message.startsWith('m/config.json: ') && re.test(e.message), JSON.stringify(cfg).slice(0, 80));
});

test('config: the parity fixtures parse identically from config.json and config.legacy.json', () => {
  const root = new URL('../fixtures/parity/', import.meta.url);
  const dirs = readdirSync(root);
  assert.ok(dirs.length >= 6, 'parity fixtures present');
  for (const d of dirs) {
    const read = (f: string) => JSON.parse(readFileSync(new URL(`${d}/${f}`, root), 'utf8'));
    const current = parseModelConfig(read('config.json'), `${d}/config.json`);
    assert.deepEqual(parseModelConfig(read('config.legacy.json'), `${d}/config.legacy.json`), current, d);
    assert.equal(current.family, { llama2: 'llama', llama3: 'llama' }[d] ?? d);
  }
});
