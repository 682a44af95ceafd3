// Which checkpoint tensor feeds which part of the model, per family, with the shape each must
// have for the config. Checking the whole plan before anything goes to the GPU means a wrong
// checkpoint fails at once with the tensor's name, its shape and the expected shape.
//
// Llama, Mistral, Qwen2, Qwen3 (transformers' LlamaForCausalLM & co.), names under "model.":
//   embed_tokens, layers.{i}.{input_layernorm, self_attn.{q,k,v,o}_proj, self_attn.{q,k}_norm,
//   post_attention_layernorm, mlp.{gate,up,down}_proj}, norm; lm_head.weight at the top level.
// GPT-2 (GPT2LMHeadModel), names under "transformer." (often saved without it):
//   wte, wpe, h.{i}.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_f.
//   Conv1D weights are stored (in, out) and are transposed to (out, in) on load; c_attn holds
//   q, k and v side by side along its output dimension and is split into three Linears.
import type { ModelConfig, WeightSource } from './config';
import { shapeString } from '../../gpu/tensor';
import { CheckpointError } from '../../gpu/errors';

/** How the stored tensor becomes the model's tensor. */
export type Transform =
  | { kind: 'copy' }
  /** Conv1D (in, out) -> Linear (out, in), then keep output rows [from, to). */
  | { kind: 'conv1d'; from: number; to: number }
  /** 1-D slice [from, to) (c_attn's bias). */
  | { kind: 'slice'; from: number; to: number };

export interface WeightSpec {
  /** Where it goes in the model, e.g. "blocks.3.attention.q.weight". */
  role: string;
  /** The tensor's name in the checkpoint, as found (first candidate present). */
  name: string;
  /** Shape the checkpoint must hold. */
  stored: number[];
  /** Shape on the GPU after the transform. */
  shape: number[];
  transform: Transform;
}

/** Roles that may be absent (only the LM head: absent means tied to the embedding). */
export interface WeightPlan {
  specs: WeightSpec[];
  tiedEmbeddings: boolean;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function describeConfig(c: ModelConfig): string {
  return `${c.modelType}: hidden ${c.hiddenSize}, ${c.numLayers} layers, heads ${c.numHeads}, kv heads ${c.numKvHeads}, head_dim ${c.headDim}, intermediate ${c.intermediateSize}, vocab ${c.vocabSize}`;
}

export function checkConfig(c: ModelConfig): void {
  const ints: [string, number][] = [['vocabSize', c.vocabSize], ['hiddenSize', c.hiddenSize], ['numLayers', c.numLayers], ['numHeads', c.numHeads], ['numKvHeads', c.numKvHeads], ['headDim', c.headDim], ['intermediateSize', c.intermediateSize], ['maxPositions', c.maxPositions]];
  for (const [k, v] of ints) if (!Number.isSafeInteger(v) || v < 1) throw new CheckpointError(`model config: ${k} must be a positive integer, got ${v}. Check config.json.`, { file: 'config.json', key: k });
  if (c.numHeads % c.numKvHeads !== 0) throw new CheckpointError(`model config: numHeads ${c.numHeads} is not a multiple of numKvHeads ${c.numKvHeads}.`, { file: 'config.json' });
  if (c.family === 'gpt2') {
    if (c.rope !== null) throw new CheckpointError('model config: gpt2 uses learned positions; rope must be null.', { file: 'config.json' });
    if (c.numHeads * c.headDim !== c.hiddenSize) throw new CheckpointError(`model config: gpt2 needs heads x head_dim = hidden (${c.numHeads} x ${c.headDim} != ${c.hiddenSize}).`, { file: 'config.json' });
    if (c.act === 'silu') throw new CheckpointError('model config: gpt2 has a GELU MLP, not silu.', { file: 'config.json' });
  } else {
    if (c.rope === null) throw new CheckpointError(`model config: ${c.family} needs RoPE settings (rope is null).`, { file: 'config.json' });
    if (c.headDim % 2 !== 0) throw new CheckpointError(`model config: head_dim ${c.headDim} must be even for RoPE.`, { file: 'config.json' });
    if (c.act !== 'silu') throw new CheckpointError(`model config: ${c.family} has a SwiGLU MLP (act silu), got ${c.act}.`, { file: 'config.json' });
  }
}

/** The plan for `c`, resolved against the names in `weights`; throws on the first missing or misshapen tensor. */
/** Where a tensor lives, as a path ("folder/model-00001-of-00002.safetensors"), when the source knows. */
export function tensorFile(weights: WeightSource & { fileOf?(name: string): string | undefined; label?: string }, name: string): string | undefined {
  const f = weights.fileOf?.(name);
  return f && weights.label ? `${weights.label}/${f}` : f;
}

export function planWeights(c: ModelConfig, weights: WeightSource & { fileOf?(name: string): string | undefined; label?: string }): WeightPlan {
  checkConfig(c);
  const fileOf = (name: string) => { const f = tensorFile(weights, name); return f ? ` (the tensor is in ${f})` : ''; };
  const specs: WeightSpec[] = [];
  const available = weights.names();
  const prefixes = c.family === 'gpt2' ? ['transformer.', ''] : ['model.', ''];

  const find = (names: string[]): string | undefined => names.find((n) => weights.has(n));
  const missing = (role: string, names: string[], shape: number[]): never => {
    const leaf = names[0].split('.').slice(-2).join('.');
    const similar = available.filter((n) => n.endsWith(leaf)).slice(0, 3);
    const hint = similar.length ? ` Similar names in the checkpoint: ${similar.join(', ')}.` : available.length ? ` The checkpoint has ${available.length} tensors, e.g. ${available.slice(0, 3).join(', ')}.` : ' The checkpoint has no tensors.';
    throw new CheckpointError(`Missing tensor "${names[0]}" (${role}, expected shape ${shapeString(shape)} for ${describeConfig(c)}).${hint} The weights do not belong to this config.json, or a shard is incomplete.`, { tensor: names[0] });
  };
  const add = (role: string, rel: string, stored: number[], shape: number[] = stored, transform: Transform = { kind: 'copy' }, topLevel = false) => {
    const names = topLevel ? [rel] : prefixes.map((p) => p + rel);
    const name = find(names) ?? missing(role, names, stored);
    const t = weights.get(name);
    if (!sameShape(t.shape, stored)) {
      throw new CheckpointError(`Tensor "${name}" (${role}) has shape ${shapeString(t.shape)}; the config expects ${shapeString(stored)} (${describeConfig(c)}). The config.json and the weights do not belong together: use the config.json saved with these weights${fileOf(name)}.`, { tensor: name, file: tensorFile(weights, name) });
    }
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw new CheckpointError(`Tensor "${name}" (${role}) is ${t.dtype}; weights must be F32, F16 or BF16: convert the checkpoint${fileOf(name)}, e.g. model.to(torch.float16).save_pretrained(...).`, { tensor: name, file: tensorFile(weights, name) });
    specs.push({ role, name, stored, shape, transform });
  };

  const H = c.hiddenSize, hd = c.headDim, qDim = c.numHeads * hd, kvDim = c.numKvHeads * hd, I = c.intermediateSize;
  if (c.family === 'gpt2') {
    add('embeddings.tokens', 'wte.weight', [c.vocabSize, H]);
    add('embeddings.positions', 'wpe.weight', [c.maxPositions, H]);
    for (let i = 0; i < c.numLayers; i++) {
      const p = `h.${i}.`, r = `blocks.${i}.`;
      add(r + 'attnNorm.weight', p + 'ln_1.weight', [H]);
      add(r + 'attnNorm.bias', p + 'ln_1.bias', [H]);
      const parts = [['q', 0], ['k', H], ['v', 2 * H]] as const;
      for (const [x, from] of parts) {
        add(`${r}attention.${x}.weight`, p + 'attn.c_attn.weight', [H, 3 * H], [H, H], { kind: 'conv1d', from, to: from + H });
        if (c.qkvBias) add(`${r}attention.${x}.bias`, p + 'attn.c_attn.bias', [3 * H], [H], { kind: 'slice', from, to: from + H });
      }
      add(r + 'attention.o.weight', p + 'attn.c_proj.weight', [H, H], [H, H], { kind: 'conv1d', from: 0, to: H });
      if (c.oBias) add(r + 'attention.o.bias', p + 'attn.c_proj.bias', [H]);
      add(r + 'mlpNorm.weight', p + 'ln_2.weight', [H]);
      add(r + 'mlpNorm.bias', p + 'ln_2.bias', [H]);
      add(r + 'mlp.up.weight', p + 'mlp.c_fc.weight', [H, I], [I, H], { kind: 'conv1d', from: 0, to: I });
      if (c.mlpBias) add(r + 'mlp.up.bias', p + 'mlp.c_fc.bias', [I]);
      add(r + 'mlp.down.weight', p + 'mlp.c_proj.weight', [I, H], [H, I], { kind: 'conv1d', from: 0, to: H });
      if (c.mlpBias) add(r + 'mlp.down.bias', p + 'mlp.c_proj.bias', [H]);
    }
    add('finalNorm.weight', 'ln_f.weight', [H]);
    add('finalNorm.bias', 'ln_f.bias', [H]);
  } else {
    add('embeddings.tokens', 'embed_tokens.weight', [c.vocabSize, H]);
    for (let i = 0; i < c.numLayers; i++) {
      const p = `layers.${i}.`, r = `blocks.${i}.`;
      add(r + 'attnNorm.weight', p + 'input_layernorm.weight', [H]);
      const proj = [['q', qDim], ['k', kvDim], ['v', kvDim]] as const;
      for (const [x, out] of proj) {
        add(`${r}attention.${x}.weight`, `${p}self_attn.${x}_proj.weight`, [out, H]);
        if (c.qkvBias) add(`${r}attention.${x}.bias`, `${p}self_attn.${x}_proj.bias`, [out]);
      }
      add(r + 'attention.o.weight', p + 'self_attn.o_proj.weight', [H, qDim]);
      if (c.oBias) add(r + 'attention.o.bias', p + 'self_attn.o_proj.bias', [H]);
      if (c.qkNorm) {
        add(r + 'attention.qNorm.weight', p + 'self_attn.q_norm.weight', [hd]);
        add(r + 'attention.kNorm.weight', p + 'self_attn.k_norm.weight', [hd]);
      }
      add(r + 'mlpNorm.weight', p + 'post_attention_layernorm.weight', [H]);
      for (const [x, stored] of [['gate', [I, H]], ['up', [I, H]], ['down', [H, I]]] as const) {
        add(`${r}mlp.${x}.weight`, `${p}mlp.${x}_proj.weight`, [...stored]);
        if (c.mlpBias) add(`${r}mlp.${x}.bias`, `${p}mlp.${x}_proj.bias`, [stored[0]]);
      }
    }
    add('finalNorm.weight', 'norm.weight', [H]);
  }
  // tie_word_embeddings: the LM head is the token embedding. Untied configs read lm_head.weight;
  // a checkpoint without one is treated as tied (what such a checkpoint can only have meant).
  const tiedEmbeddings = c.tiedEmbeddings || !weights.has('lm_head.weight');
  if (!tiedEmbeddings) add('lmHead.weight', 'lm_head.weight', [c.vocabSize, H], [c.vocabSize, H], { kind: 'copy' }, true);
  return { specs, tiedEmbeddings };
}
