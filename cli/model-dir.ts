// --model DIR|default: `default` is the bundled model shipped in public/models/default.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointError } from '../gpu/errors';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_MODEL_DIR = join(REPO_ROOT, 'public', 'models', 'default');

export function resolveModelDir(arg: string): string {
  const dir = arg === 'default' ? DEFAULT_MODEL_DIR : resolve(arg);
  if (!existsSync(dir)) {
    throw new CheckpointError(arg === 'default' ? `the bundled model is missing at ${dir}: restore public/models/default (git checkout public/models/default).` : `--model ${arg}: no such folder (${dir}). Give a folder with config.json, model.safetensors and tokenizer.json, or "default".`, { file: dir });
  }
  return dir;
}
