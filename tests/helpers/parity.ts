// Parity fixtures made by tools/parity/make_fixtures.py on the device with transformers and
// tokenizers: small random checkpoints of each family, with transformers' reference outputs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, entryToTensor } from '../../src/model/loader/safetensors-format';
import { toFloat32, toInt32 } from '../../src/model/loader/dtypes';

export const PARITY_DIR = join(process.cwd(), 'tests', 'fixtures', 'parity');
export const PARITY_FIXTURES = readdirSync(PARITY_DIR).sort();

export interface ParityReference {
  inputIds: Int32Array;
  logits: Float32Array;
  logitsShape: number[];
  attn: Float32Array[];
  attnShape: number[];
  tokIds: Int32Array;
}

export function readReference(name: string): ParityReference {
  const file = join(PARITY_DIR, name, 'reference.safetensors');
  const bytes = new Uint8Array(readFileSync(file));
  const h = parseSafetensors(bytes, file);
  const get = (n: string) => {
    const e = h.entries.find((x) => x.name === n);
    if (!e) throw new Error(`${file}: no tensor ${n}`);
    return entryToTensor(e, bytes.slice(h.dataStart + e.begin, h.dataStart + e.end), file);
  };
  const attn: Float32Array[] = [];
  let attnShape: number[] = [];
  for (let l = 0; h.entries.some((x) => x.name === `attn.${l}`); l++) {
    const t = get(`attn.${l}`);
    attn.push(toFloat32(t));
    attnShape = t.shape;
  }
  const logits = get('logits');
  return { inputIds: toInt32(get('input_ids')), logits: toFloat32(logits), logitsShape: logits.shape, attn, attnShape, tokIds: toInt32(get('tok.ids')) };
}

export const fixtureText = (name: string, file: 'text.txt' | 'tokenizer-text.txt') => readFileSync(join(PARITY_DIR, name, file), 'utf8');
