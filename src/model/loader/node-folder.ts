// A checkpoint folder on disk (Node only: imports node:fs, so the browser bundle must not import
// this file; files.ts holds everything the browser needs).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CheckpointFiles } from './files';
import { CheckpointError } from '../../../gpu/errors';

/** The files directly inside `dir` (Hugging Face repositories keep the checkpoint at the top). */
export function nodeFolder(dir: string): CheckpointFiles {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new CheckpointError(`Checkpoint folder ${abs} does not exist: pass the folder holding config.json, tokenizer.json and the .safetensors files.`, { file: abs });
  if (!statSync(abs).isDirectory()) throw new CheckpointError(`${abs} is not a folder: pass the folder holding config.json, tokenizer.json and the .safetensors files.`, { file: abs });
  const names = readdirSync(abs).filter((n) => statSync(join(abs, n)).isFile()).sort();
  const path = (name: string) => {
    if (!names.includes(name)) {
      throw new CheckpointError(`${abs}: no file named ${name}. Files present: ${names.length ? names.join(', ') : '(none)'}.`, { file: join(abs, name) });
    }
    return join(abs, name);
  };
  return {
    label: abs,
    list: () => [...names],
    has: (name) => names.includes(name),
    read: async (name) => {
      const b = await readFile(path(name));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    readRange: async (name, start, end) => {
      const fh = await open(path(name), 'r');
      try {
        const out = new Uint8Array(Math.max(0, end - start));
        let got = 0;
        // fs reads may return short counts; loop until the range is full or the file ends.
        while (got < out.length) {
          const { bytesRead } = await fh.read(out, got, out.length - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === out.length ? out : out.subarray(0, got);
      } finally {
        await fh.close();
      }
    },
    size: async (name) => (await stat(path(name))).size,
  };
}
