// Hugging Face tensor names of each family. GPT-2 checkpoints come with or without the
// "transformer." prefix (GPT2LMHeadModel vs GPT2Model); both are accepted.
import type { ModelConfig, WeightSource } from './config';

export interface HfNames {
  embed: string;
  positions?: string;
  layer(l: number): { prefix: string; attnNorm: string; mlpNorm: string };
  finalNorm: string;
  /** undefined: the output projection is the embedding (tied). */
  lmHead?: string;
}

export function hfNames(c: ModelConfig, w: WeightSource): HfNames {
  if (c.family === 'gpt2') {
    const p = w.has('transformer.wte.weight') ? 'transformer.' : '';
    return {
      embed: `${p}wte.weight`,
      positions: `${p}wpe.weight`,
      layer: (l) => ({ prefix: `${p}h.${l}`, attnNorm: `${p}h.${l}.ln_1`, mlpNorm: `${p}h.${l}.ln_2` }),
      finalNorm: `${p}ln_f`,
      lmHead: undefined,
    };
  }
  const tied = c.tiedEmbeddings || !w.has('lm_head.weight');
  if (!c.tiedEmbeddings && !w.has('lm_head.weight')) {
    throw new Error(`config.json says tie_word_embeddings is false but the checkpoint has no lm_head.weight: the weights are incomplete.`);
  }
  return {
    embed: 'model.embed_tokens.weight',
    layer: (l) => ({ prefix: `model.layers.${l}`, attnNorm: `model.layers.${l}.input_layernorm`, mlpNorm: `model.layers.${l}.post_attention_layernorm` }),
    finalNorm: 'model.norm',
    lmHead: tied ? undefined : 'lm_head.weight',
  };
}
