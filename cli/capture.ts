// `sa-studio capture`: post-RoPE q and k of every layer, for `sa-studio select`.
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { HELP_FLAG, MODEL_FLAGS, parseFlags, printedHelp, type FlagSpec } from './args';
import { PRECISION_FLAG, flagPrecision } from './precision-flag';
import { openSession } from './session';
import { forward } from '../src/model/forward';
import { writeSafetensors, type TensorToWrite } from '../src/model/loader/safetensors-format';

/** The text goes into the metadata whole up to this many UTF-8 bytes (as tools/capture/plan.py). */
const TEXT_METADATA_LIMIT = 4 * 2 ** 20;

const SPEC: FlagSpec = {
  ...PRECISION_FLAG,
  ...MODEL_FLAGS,
  out: { kind: 'string', required: true, help: 'safetensors to write: q.<layer> [heads, S, d], k.<layer> and v.<layer> [kv_heads, S, d] F32, input_ids, and the model (model_name, family, num_layers) and text in __metadata__' },
  ...HELP_FLAG,
};

export async function captureCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'capture', 'write every layer\'s post-RoPE q and k', SPEC)) return 0;
  const f = parseFlags('capture', argv, SPEC);
  const s = await openSession(f.model as string, f.text as string, f['max-tokens'] as number | undefined, false, flagPrecision('capture', f));
  const { config } = s.checkpoint;
  const S = s.ids.length;
  const out = await forward(s.model, s.ids, { captureQK: true, captureV: true, logits: 'none' });
  if (!out.q || !out.k) throw new Error('the forward pass returned no q/k capture');
  const tensors: TensorToWrite[] = [{ name: 'input_ids', dtype: 'I32', shape: [S], data: s.ids }];
  for (let l = 0; l < config.numLayers; l++) {
    tensors.push({ name: `q.${l}`, dtype: 'F32', shape: [config.numHeads, S, config.headDim], data: out.q[l] });
    tensors.push({ name: `k.${l}`, dtype: 'F32', shape: [config.numKvHeads, S, config.headDim], data: out.k[l] });
    if (out.v) tensors.push({ name: `v.${l}`, dtype: 'F32', shape: [config.numKvHeads, S, config.headDim], data: out.v[l] });
  }
  // The model's identity and the text travel with the file (the keys tools/capture writes), so
  // `tune --qk` can name the model in its config and the studio can show the capture's source.
  const metadata: Record<string, string> = {
    format: 'sa-studio capture', tool: 'sa-studio capture', model: f.model as string, model_name: s.checkpoint.name,
    family: config.family, layers: Array.from({ length: config.numLayers }, (_, l) => l).join(','), num_layers: String(config.numLayers),
    heads: String(config.numHeads), kv_heads: String(config.numKvHeads), head_dim: String(config.headDim), tokens: String(S),
    positions: `0..${S - 1}`, v: out.v ? 'yes' : 'no', dtype: s.model.precision,
    text_file: basename(f.text as string), text_sha256: createHash('sha256').update(s.text, 'utf8').digest('hex'),
    text_bytes: String(Buffer.byteLength(s.text, 'utf8')), text_chars: String(s.text.length),
    ...(Buffer.byteLength(s.text, 'utf8') <= TEXT_METADATA_LIMIT ? { text: s.text, text_stored: 'yes' } : { text_stored: 'no (over 4 MiB)' }),
  };
  writeFileSync(f.out as string, writeSafetensors(tensors, metadata));
  console.log(`wrote ${f.out}: q.0..q.${config.numLayers - 1}, k.*, v.* for ${S} tokens (adapter ${s.adapter})`);
  s.model.dispose();
  return 0;
}
