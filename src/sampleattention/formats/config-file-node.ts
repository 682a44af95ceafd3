// Reading a per-head config file (the studio's, or MInference's) from disk (Node only: imports
// node:fs, so the studio's bundle must not import this file). A missing or unreadable file is a
// ConfigError naming it, like a broken one.
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, type SampleConfig } from './config-file';
import { MInferenceConfigError, parseMInference, type MInferenceConfig } from './minference-file';

const why = (e: unknown) => ((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);

export function readConfigFile(file: string): SampleConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`config: cannot read the file (${why(e)}); pass the JSON written by \`sa-studio tune\` or the studio's export`], file, 'is not readable');
  }
  return parseConfig(text, file);
}

export function readMInferenceFile(file: string): MInferenceConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MInferenceConfigError([`config: cannot read the file (${why(e)}); pass a MInference per-head config (its minference/configs/*.json, or \`sa-studio convert --to minference\`)`], file, 'is not readable');
  }
  return parseMInference(text, file);
}
