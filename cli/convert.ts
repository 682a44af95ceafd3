// `sa-studio convert`: a studio per-head config (from `tune` or the studio's export) as another
// tool's file. Today one target: MInference's per-layer list of
// {"<head>": ["vertical_and_slash", vertical_size, slash_size, recall]}. How the sizes are derived
// lives with the conversion (src/sampleattention/formats/minference-convert.ts) and in
// docs/tune-eval.md; this file reads the inputs, writes the file and says what it did.
import { writeFileSync } from 'node:fs';
import { HELP_FLAG, parseFlags, printedHelp, table, UsageError, type FlagSpec } from './args';
import { readConfigFile } from '../src/sampleattention/formats/config-file-node';
import { toMInference, type Converted } from '../src/sampleattention/formats/minference-convert';
import { serializeMInference } from '../src/sampleattention/formats/minference-file';
import { readQkLayer } from './capture-input';

const SPEC: FlagSpec = {
  config: { kind: 'string', required: true, help: 'studio per-head config JSON (docs/config-schema.md)' },
  to: { kind: 'string', required: true, help: 'target format: "minference"' },
  out: { kind: 'string', required: true, help: 'where to write the converted file' },
  qk: { kind: 'string', help: 'capture of the config\'s text (`sa-studio capture`): vertical_size becomes exact, the float64 reference\'s selection re-run; without it vertical_size is estimated from the measured density' },
  ...HELP_FLAG,
};

const SUMMARY = [
  'a studio per-head config as MInference\'s per-head file (one object per layer, {"<head>": ["vertical_and_slash", vertical_size, slash_size, recall]})',
  '  slash_size = SampleAttention\'s local window in tokens, max(ceil(windowRatio x S), 1) (docs/SAMPLEATTENTION.md step 7)',
  '  vertical_size = the key columns SampleAttention selected, |I_KV|: exact with --qk (reference selectHead on the capture),',
  '    else estimated from the measured density, each key outside the window counted as adding (S - window + 1) / 2 entries',
  '  recall = the measured recallMean; S = the capture\'s tokens with --qk, else the config\'s text.tokens',
].join('\n');

export async function convertCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'convert', SUMMARY, SPEC)) return 0;
  const f = parseFlags('convert', argv, SPEC);
  if (f.to !== 'minference') throw new UsageError(`convert: --to ${f.to} is not a target this verb knows; give --to minference.`);
  const file = f.config as string;
  const cfg = readConfigFile(file);
  // One layer of the capture at a time (CaptureFile): a capture past memory or 2 GiB converts.
  const conv = await toMInference(cfg, file, f.qk === undefined ? undefined : (l) => readQkLayer(f.qk as string, l));
  writeFileSync(f.out as string, serializeMInference(conv.minference));
  if (conv.warning) process.stderr.write(`convert: warning: ${conv.warning}\n`);
  console.log(formatConvert(file, f.out as string, f.qk as string | undefined, cfg.model.name, conv));
  return 0;
}

/** What was written and how its sizes were found: a key per line, then means per layer. */
export function formatConvert(config: string, out: string, qk: string | undefined, model: string, c: Converted): string {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = c.minference.map((_, l) => {
    const hs = c.heads.filter((h) => h.layer === l);
    return [String(l), mean(hs.map((h) => h.verticalSize)).toFixed(1), mean(hs.map((h) => h.slashSize)).toFixed(1), mean(hs.map((h) => h.recall)).toFixed(4)];
  });
  return [
    `wrote ${out}: MInference per-head config, ${c.minference.length} layers x ${c.heads.length / Math.max(1, c.minference.length)} heads, from ${config} (${model})`,
    `S: ${c.S} tokens`,
    `vertical_size_source: ${c.vertical === 'exact' ? `exact (the float64 reference's selection re-run on ${qk})` : 'estimated (from the measured density; pass --qk for exact sizes)'}`,
    'slash_size: local window max(ceil(windowRatio x S), 1)',
    'recall: measured recallMean (the fourth field)',
    '',
    'per layer (mean over heads):',
    ...table(['layer', 'vertical_size', 'slash_size', 'recall'], rows),
  ].join('\n');
}
