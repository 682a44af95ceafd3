// A whole Hugging Face checkpoint: config.json -> ModelConfig, tokenizer.json -> Tokenizer,
// safetensors (single or sharded) -> WeightSource. Works on any CheckpointFiles (Node folder or
// browser File objects). Shape checks against the config belong to the forward-pass builder.
import type { ModelConfig } from '../config';
import { baseName, type CheckpointFiles, type ProgressFn } from './files';
import { readJsonFile } from './json-file';
import { parseModelConfig } from './model-config';
import { loadSafetensorsWeights, type CheckpointWeights } from './safetensors-weights';
import { loadTokenizer, type Tokenizer } from './tokenizer/tokenizer';
import { CheckpointError } from '../../../gpu/errors';

export interface Checkpoint {
  name: string;
  config: ModelConfig;
  weights: CheckpointWeights;
  tokenizer: Tokenizer;
}

function tokenizerMissingHint(files: CheckpointFiles): string {
  if (files.has('tokenizer.model')) {
    return 'only a SentencePiece tokenizer.model is present; save a tokenizer.json with transformers: AutoTokenizer.from_pretrained(dir).save_pretrained(dir)';
  }
  if (files.has('vocab.json') && files.has('merges.txt')) {
    return 'only vocab.json + merges.txt are present; save a tokenizer.json with transformers: AutoTokenizer.from_pretrained(dir).save_pretrained(dir)';
  }
  return 'the studio needs the fast-tokenizer file tokenizer.json';
}

export async function loadCheckpoint(files: CheckpointFiles, onProgress?: ProgressFn): Promise<Checkpoint> {
  // Small files first, so a wrong folder fails before gigabytes are read.
  const config = parseModelConfig(await readJsonFile(files, 'config.json', 'every Hugging Face checkpoint has one'), `${files.label}/config.json`);
  const tokJson = await readJsonFile(files, 'tokenizer.json', tokenizerMissingHint(files));
  let tokenizer: Tokenizer;
  try {
    tokenizer = loadTokenizer(tokJson);
  } catch (e) {
    // The tokenizer's own checks throw plain Errors starting "tokenizer.json..."; other kinds
    // (TypeError, ...) are bugs and are not dressed up as bad input.
    if (e instanceof Error && e.constructor === Error) {
      throw new CheckpointError(`${files.label}/${e.message}${/download|convert|save/i.test(e.message) ? '' : ' Check that tokenizer.json is complete and belongs to this model (download it again).'}`, { file: `${files.label}/tokenizer.json` }, { cause: e });
    }
    throw e;
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new CheckpointError(`${files.label}: tokenizer.json has ids up to ${tokenizer.vocabSize - 1} but config.json's vocab_size is ${config.vocabSize}: the tokenizer belongs to another model.`, { file: `${files.label}/tokenizer.json`, key: 'vocab_size' });
  }
  const weights = await loadSafetensorsWeights(files, onProgress);
  return { name: baseName(files.label.replace(/[\\/]+$/, '')) || files.label, config, weights, tokenizer };
}
