// `sa-studio apply`: a saved per-head config (from `tune` or the studio's export) on a new text:
// checks it was made for this model, runs every layer's SampleAttention with the config's per-head
// parameters on the GPU engine, and prints per-layer recall and density beside what the config
// recorded on its own text; --out writes every head's selection.
import { writeFileSync } from 'node:fs';
import { HELP_FLAG, parseFlags, printedHelp, table, type FlagSpec } from './args';
import { openSession } from './session';
import { forward } from '../src/model/forward';
import { readConfigFile } from '../src/sampleattention/formats/config-file-node';
import { runCapturedLayers } from '../src/sampleattention/gpu-run/captured-layers';
import { headShape } from '../src/sampleattention/studies/tune';
import type { HeadResult } from '../src/sampleattention/spec/setting';
import { checkConfigFits, configParams, modelIdentity } from '../src/sampleattention/formats/config-file';

const SPEC: FlagSpec = {
  config: { kind: 'string', required: true, help: 'per-head config JSON (docs/config-schema.md)' },
  model: { kind: 'string', required: true, help: 'checkpoint folder or "default"; must have the config\'s shape' },
  text: { kind: 'string', required: true, help: 'UTF-8 text file to apply the config to' },
  'max-tokens': { kind: 'number', help: 'keep only the first N tokens' },
  out: { kind: 'string', help: 'write every head\'s selection (rows, keys, window, measures) as JSON here' },
  ...HELP_FLAG,
};

export async function applyCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'apply', 'reuse a saved per-head config on a new text: per-layer recall and density', SPEC)) return 0;
  const f = parseFlags('apply', argv, SPEC);
  const file = f.config as string;
  const cfg = readConfigFile(file);
  const s = await openSession(f.model as string, f.text as string, f['max-tokens'] as number | undefined);
  const c = s.checkpoint.config;
  const S = s.ids.length, d = c.headDim;
  const layers: HeadResult[][] = [];
  try {
    const warning = checkConfigFits(cfg, modelIdentity(s.checkpoint.name, c), file);
    if (warning) process.stderr.write(`apply: ${warning}\n`);
    const params = configParams(cfg);
    process.stderr.write(`apply: capturing q/k/v (${S} tokens)\n`);
    const r = await forward(s.model, s.ids, { captureQK: true, captureV: true, logits: 'none' });
    await runCapturedLayers(s.ctx, headShape(c), { q: r.q!, k: r.k!, v: r.v! }, (l) => params[l], (l, run) => {
      layers.push(run.heads);
      process.stderr.write(`  layer ${l + 1}/${c.numLayers}\n`);
    });
  } finally {
    s.model.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rec = (l: number, key: 'recallMean' | 'density') => {
    const m = cfg.layers[l].heads.map((h) => h.measured?.[key]);
    return m.every((x) => x !== undefined) ? mean(m as number[]).toFixed(4) : '-';
  };
  const rows = layers.map((heads, l) => [
    String(l), mean(heads.map((h) => h.recallMean)).toFixed(4), Math.min(...heads.map((h) => h.recallP5)).toFixed(4), mean(heads.map((h) => h.density)).toFixed(4),
    mean(heads.map((h) => h.outputError ?? 0)).toExponential(2), rec(l, 'recallMean'), rec(l, 'density'),
  ]);
  const all = layers.flat();
  console.log([
    `config: ${file} (made for ${cfg.model.name} on ${cfg.text.tokens} tokens); model: ${s.checkpoint.name}; text: ${f.text} (${S} tokens)`,
    '',
    ...table(['layer', 'recall', 'worst P5', 'density', 'output error', 'config recall', 'config density'], rows),
    '',
    `model: recall ${mean(all.map((h) => h.recallMean)).toFixed(4)}, density ${mean(all.map((h) => h.density)).toFixed(4)}, worst head recall ${Math.min(...all.map((h) => h.recallMean)).toFixed(4)}`,
  ].join('\n'));
  if (f.out !== undefined) {
    const body = { config: file, model: s.checkpoint.name, text: f.text, S, d, numHeads: c.numHeads, numKvHeads: c.numKvHeads, layers: layers.map((heads, layer) => ({ layer, heads })) };
    writeFileSync(f.out as string, JSON.stringify(body) + '\n');
    process.stderr.write(`apply: wrote ${f.out}\n`);
  }
  return 0;
}
