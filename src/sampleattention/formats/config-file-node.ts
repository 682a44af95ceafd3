// Reading a per-head config file from disk (Node only: imports node:fs, so the studio's bundle
// must not import this file). A missing or unreadable file is a ConfigError naming it, like a
// broken one.
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, type SampleConfig } from './config-file';

export function readConfigFile(file: string): SampleConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([`config: cannot read the file (${code === 'ENOENT' ? 'no such file' : (e as Error).message}); pass the JSON written by \`sa-studio tune\` or the studio's export`], file, 'is not readable');
  }
  return parseConfig(text, file);
}
