// config.json -> ModelConfig for the families the forward pass runs. Reads the current transformers
// keys (rope_parameters) and the older ones (rope_theta + rope_scaling), GPT-2's own names (n_embd,
// n_layer, ...), and applies each family's transformers defaults for keys a config may leave out.
import { FAMILIES, type Family, type ModelConfig, type RopeConfig } from '../config';
import { CheckpointError } from '../../../gpu/errors';

export const SUPPORTED_MODEL_TYPES: readonly Family[] = FAMILIES;
export const SUPPORTED_ROPE_TYPES: readonly RopeConfig['type'][] = ['default', 'llama3'];

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(readonly cfg: Json, readonly file: string) {}

  /** Throws a CheckpointError naming the file and, when given (or quoted first in `msg`), the key. */
  fail(msg: string, key?: string): never {
    const k = key ?? /^"([^"]+)"/.exec(msg)?.[1] ?? /^(\w+) /.exec(msg)?.[1];
    throw new CheckpointError(`${this.file}: ${msg}`, { file: this.file, key: k });
  }

  has(key: string): boolean {
    return this.cfg[key] !== undefined && this.cfg[key] !== null;
  }

  /** A positive integer under `key` (first of `keys` present), or `fallback` when absent. */
  posInt(keys: string | string[], fallback?: number): number {
    const list = Array.isArray(keys) ? keys : [keys];
    const key = list.find((k) => this.has(k));
    if (key === undefined) {
      if (fallback !== undefined) return fallback;
      this.fail(`"${list[0]}" is missing; it must be a positive integer. Use the config.json the weights were saved with.`, list[0]);
    }
    const v = this.cfg[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) this.fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}.`, key);
    return v;
  }

  posNumber(key: string, fallback: number, obj: Json = this.cfg, where = ''): number {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(`"${where}${key}" must be a positive number, got ${JSON.stringify(v)}.`, where + key);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.cfg[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(`"${key}" must be true or false, got ${JSON.stringify(v)}.`, key);
    return v;
  }

  /** A token id; a list (Llama 3.1's several eos ids) gives its first. */
  tokenId(key: string): number | undefined {
    let v = this.cfg[key];
    if (Array.isArray(v)) v = v[0];
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
  }
}

/** RoPE settings from rope_parameters (current) or rope_theta + rope_scaling (older configs). */
function readRope(r: ConfigReader): RopeConfig {
  const cfg = r.cfg;
  let params: Json;
  let where: string;
  if (cfg.rope_parameters !== undefined && cfg.rope_parameters !== null) {
    if (typeof cfg.rope_parameters !== 'object' || Array.isArray(cfg.rope_parameters)) r.fail('"rope_parameters" must be an object.');
    params = cfg.rope_parameters as Json;
    where = 'rope_parameters.';
    const nested = Object.values(params).some((v) => typeof v === 'object' && v !== null);
    if (nested && params.rope_type === undefined && params.rope_theta === undefined) {
      r.fail(`"rope_parameters" holds per-layer-type settings (${Object.keys(params).join(', ')}); only one RoPE setting for all layers is supported.`);
    }
  } else if (cfg.rope_scaling !== undefined && cfg.rope_scaling !== null) {
    if (typeof cfg.rope_scaling !== 'object' || Array.isArray(cfg.rope_scaling)) r.fail('"rope_scaling" must be an object or null.');
    params = cfg.rope_scaling as Json;
    where = 'rope_scaling.';
  } else {
    params = {};
    where = '';
  }
  const type = (params.rope_type ?? params.type ?? 'default') as unknown;
  // rope_theta sits in rope_parameters (current) or at the top level (older); 10000 is the default
  // of every supported family's config class.
  const theta = params.rope_theta !== undefined ? r.posNumber('rope_theta', 10000, params, where) : r.posNumber('rope_theta', 10000);
  const partial = params.partial_rotary_factor ?? cfg.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) r.fail(`partial_rotary_factor ${JSON.stringify(partial)} is not supported (RoPE must rotate the whole head).`);
  if (type === 'default') return { theta, type: 'default' };
  if (type === 'llama3') {
    const need = (k: string) => {
      if (params[k] === undefined || params[k] === null) r.fail(`RoPE type llama3 needs "${where}${k}".`, where + k);
      return r.posNumber(k, 0, params, where);
    };
    return {
      theta,
      type: 'llama3',
      factor: need('factor'),
      lowFreqFactor: need('low_freq_factor'),
      highFreqFactor: need('high_freq_factor'),
      originalMaxPositionEmbeddings: need('original_max_position_embeddings'),
    };
  }
  return r.fail(`RoPE type ${JSON.stringify(type)} (${where || 'rope settings'}) is not supported. Supported RoPE types: ${SUPPORTED_ROPE_TYPES.join(', ')}.`);
}

function checkKvHeads(r: ConfigReader, heads: number, kvHeads: number): void {
  if (kvHeads > heads || heads % kvHeads !== 0) {
    r.fail(`"num_key_value_heads" (${kvHeads}) must divide "num_attention_heads" (${heads}): each key/value head serves a whole group of query heads.`);
  }
}

function checkHeadsDivideHidden(r: ConfigReader, hidden: number, heads: number, keys: [string, string]): void {
  if (hidden % heads !== 0) r.fail(`"${keys[1]}" (${heads}) must divide "${keys[0]}" (${hidden}) when head_dim is not given.`);
}

function parseGpt2(r: ConfigReader): ModelConfig {
  const hidden = r.posInt('n_embd');
  const heads = r.posInt('n_head');
  checkHeadsDivideHidden(r, hidden, heads, ['n_embd', 'n_head']);
  const act = (r.cfg.activation_function ?? 'gelu_new') as string;
  // gelu_pytorch_tanh is the same tanh approximation as gelu_new.
  const acts: Record<string, ModelConfig['act']> = { gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new', gelu: 'gelu' };
  if (!(act in acts)) r.fail(`activation_function ${JSON.stringify(act)} is not supported for gpt2 (supported: ${Object.keys(acts).join(', ')}).`);
  if (r.bool('scale_attn_by_inverse_layer_idx', false)) r.fail('scale_attn_by_inverse_layer_idx=true is not supported.');
  if (!r.bool('scale_attn_weights', true)) r.fail('scale_attn_weights=false is not supported (attention is always scaled by 1/sqrt(head_dim)).');
  return {
    family: 'gpt2',
    modelType: 'gpt2',
    vocabSize: r.posInt('vocab_size'),
    hiddenSize: hidden,
    numLayers: r.posInt('n_layer'),
    numHeads: heads,
    numKvHeads: heads,
    headDim: hidden / heads,
    intermediateSize: r.posInt('n_inner', 4 * hidden),
    maxPositions: r.posInt(['n_positions', 'n_ctx'], 1024),
    norm: 'layer',
    normEps: r.posNumber('layer_norm_epsilon', 1e-5),
    act: acts[act],
    rope: null,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    qkNorm: false,
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    bosTokenId: r.tokenId('bos_token_id'),
    eosTokenId: r.tokenId('eos_token_id'),
  };
}

/** Llama 1/2/3, Mistral, Qwen2 and Qwen3: pre-RMSNorm, RoPE, SwiGLU, grouped-query attention. */
function parseLlamaLike(r: ConfigReader, family: Exclude<Family, 'gpt2'>): ModelConfig {
  const hidden = r.posInt('hidden_size');
  const heads = r.posInt('num_attention_heads');
  const kvHeads = r.posInt('num_key_value_heads', heads);
  checkKvHeads(r, heads, kvHeads);
  // An explicit head_dim (Qwen3, newer Llama/Mistral configs) need not be hidden_size / heads.
  if (!r.has('head_dim')) checkHeadsDivideHidden(r, hidden, heads, ['hidden_size', 'num_attention_heads']);
  const headDim = r.has('head_dim') ? r.posInt('head_dim') : hidden / heads;
  if (headDim % 2 !== 0) r.fail(`head_dim ${headDim} must be even for RoPE.`);
  const act = (r.cfg.hidden_act ?? 'silu') as string;
  if (act !== 'silu' && act !== 'swish') r.fail(`hidden_act ${JSON.stringify(act)} is not supported for ${family} (supported: silu).`);
  if ((family === 'qwen2' || family === 'qwen3') && r.bool('use_sliding_window', false)) {
    r.fail('use_sliding_window=true is not supported: the studio runs full causal attention in every layer.');
  }
  // attention_bias puts a bias on q, k, v and o (Llama, Qwen3); Qwen2 always biases q, k, v only;
  // Mistral has no biases. mlp_bias exists in Llama only.
  const attnBias = family === 'llama' || family === 'qwen3' ? r.bool('attention_bias', false) : false;
  // transformers' defaults for max_position_embeddings, per config class.
  const defaultMaxPos = { llama: 2048, mistral: 4096 * 32, qwen2: 32768, qwen3: 32768 }[family];
  return {
    family,
    modelType: family,
    vocabSize: r.posInt('vocab_size'),
    hiddenSize: hidden,
    numLayers: r.posInt('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: kvHeads,
    headDim,
    intermediateSize: r.posInt('intermediate_size'),
    maxPositions: r.posInt('max_position_embeddings', defaultMaxPos),
    norm: 'rms',
    normEps: r.posNumber('rms_norm_eps', 1e-6),
    act: 'silu',
    rope: readRope(r),
    qkvBias: family === 'qwen2' ? true : attnBias,
    oBias: attnBias,
    mlpBias: family === 'llama' ? r.bool('mlp_bias', false) : false,
    qkNorm: family === 'qwen3',
    tiedEmbeddings: r.bool('tie_word_embeddings', false),
    bosTokenId: r.tokenId('bos_token_id'),
    eosTokenId: r.tokenId('eos_token_id'),
  };
}

/** Parses a config.json object. `file` names it in errors (e.g. "Llama-3.2-1B/config.json"). */
export function parseModelConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError(`${file}: must be a JSON object of settings, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}.`, { file });
  const r = new ConfigReader(json as Json, file);
  const type = r.cfg.model_type;
  if (typeof type !== 'string') {
    return r.fail(`"model_type" is missing${type === undefined ? '' : ` or not a string (got ${JSON.stringify(type)})`}. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}.`, 'model_type');
  }
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(type)) {
    r.fail(`model_type ${JSON.stringify(type)} is not supported. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}${Array.isArray(r.cfg.architectures) ? ` (this config names architectures ${JSON.stringify(r.cfg.architectures)})` : ''}: pick a checkpoint of one of these.`, 'model_type');
  }
  const config = type === 'gpt2' ? parseGpt2(r) : parseLlamaLike(r, type as Exclude<Family, 'gpt2'>);
  return config;
}
