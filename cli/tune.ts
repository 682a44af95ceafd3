// `sa-studio tune`: per head, the lowest-density SampleAttention setting of a grid whose recall
// meets the target on every text (rule in src/sampleattention/studies/tune.ts), written as the studio's per-head
// config (src/sampleattention/formats/config-file.ts), with a density report per layer x head. Progress to stderr.
// --variant tokens (the default), blocks or both: which variants' settings the grid holds; with
// both, each head picks its variant too. The default is tokens, as the studio's auto-tune's: with
// the same variant, grid and text, `tune` and the studio choose the same settings (one tuneModel).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { HELP_FLAG, parseFlags, printedHelp, table, UsageError, type FlagSpec } from './args';
import { PRECISION_FLAG, flagPrecision } from './precision-flag';
import { openSession, readText } from './session';
import { forward } from '../src/model/forward';
import { buildConfig, modelIdentity, serializeConfig } from '../src/sampleattention/formats/config-file';
import { DEFAULT_PARAMS } from '../src/sampleattention/spec/params';
import { DEFAULT_SETTINGS } from '../src/sampleattention/spec/setting';
import { DEFAULT_BLOCKS_GRID, DEFAULT_GRID, TUNE_VARIANTS, checkRule, fullMaskHeads, gridPoints, headShape, isFullMask, ruleText, tuneModel, variantCounts, variantCountsText, type HeadChoice, type LayerCapture, type TuneGrid, type TuneReport, type TuneRule, type TuneVariant } from '../src/sampleattention/studies/tune';
import { MAX_BLOCK_SIZE } from '../src/sampleattention/spec/blocks/params';
import { variantOf } from './variant-flags';
import { numberList, takeMulti, textIds } from './eval';
import { QK_FLAG, modelOrCapture, openCaptureSession } from './capture-input';
import { captureIdentity, toModelLayers } from '../src/sampleattention/formats/capture-file';
import { captureTuneLayers } from '../src/sampleattention/studies/capture-sources';
import { requireTensorCores } from '../gpu/tensorcore/support';

const SPEC: FlagSpec = {
  ...PRECISION_FLAG,
  model: { kind: 'string', help: 'checkpoint folder or "default" (or --qk)' },
  text: { kind: 'string', help: 'one or more UTF-8 text files (--text a.txt b.txt); the target must hold on every one' },
  ...QK_FLAG,
  'model-name': { kind: 'string', help: 'with --qk: the model name for the config, when the capture does not record one (metadata model_name)' },
  family: { kind: 'string', help: 'with --qk: the model family for the config (llama, mistral, qwen2, qwen3, gpt2) when the capture does not record one' },
  'num-layers': { kind: 'number', help: 'with --qk: the model\'s layer count when the capture does not record it and holds only some layers' },
  'target-recall': { kind: 'number', required: true, help: 'mean row recall each head must reach on every text, e.g. 0.95' },
  'min-row-recall': { kind: 'number', help: 'also require the 5th-percentile row recall (recallP5) >= this on every text' },
  out: { kind: 'string', required: true, help: 'where to write the per-head config JSON' },
  'max-tokens': { kind: 'number', help: 'keep only the first N tokens of each text' },
  alphas: { kind: 'string', help: `grid of alpha values (default ${DEFAULT_GRID.alpha.join(',')})` },
  'row-ratios': { kind: 'string', help: `grid of rowRatio values (default ${DEFAULT_GRID.rowRatio.join(',')})` },
  'window-ratios': { kind: 'string', help: `grid of windowRatio values (default ${DEFAULT_GRID.windowRatio.join(',')})` },
  variant: { kind: 'string', help: 'which variants the grid tries: tokens (default; as the studio\'s auto-tune), blocks, or both (each head picks its variant)' },
  'block-sizes': { kind: 'string', help: `blocks: grid of blockSize values (default ${DEFAULT_BLOCKS_GRID.blockSize.join(',')}; sizes above S/2 are left out)` },
  'alpha-columns': { kind: 'string', help: `blocks: grid of alphaColumn values (default ${DEFAULT_BLOCKS_GRID.alphaColumn.join(',')})` },
  'alpha-slashes': { kind: 'string', help: `blocks: grid of alphaSlash values (default ${DEFAULT_BLOCKS_GRID.alphaSlash.join(',')})` },
  'blocks-row-ratios': { kind: 'string', help: `blocks: grid of rowRatio values (default ${DEFAULT_BLOCKS_GRID.rowRatio.join(',')})` },
  ...HELP_FLAG,
};

const SUMMARY = 'per head, the lowest-density SampleAttention setting whose recall meets a target on every text; writes a per-head config';

export async function tuneCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'tune', SUMMARY, SPEC)) return 0;
  const { values: texts, rest } = takeMulti(argv, 'text');
  const f = parseFlags('tune', texts.length ? [...rest, '--text', texts[0]] : rest, SPEC);
  const from = modelOrCapture('tune', f);
  const rule: TuneRule = { targetRecall: f['target-recall'] as number, minRowRecall: f['min-row-recall'] as number | undefined };
  try {
    checkRule(rule);
  } catch (e) {
    throw new UsageError(`tune: ${(e as Error).message}`);
  }
  const ratio = (x: number) => x >= 0 && x <= 1;
  const share = (x: number) => x > 0 && x <= 1;
  const variant: TuneVariant = variantOf('tune', f, TUNE_VARIANTS, { tokens: ['alphas', 'row-ratios', 'window-ratios'], blocks: ['block-sizes', 'alpha-columns', 'alpha-slashes', 'blocks-row-ratios'] });
  const grid: TuneGrid = {
    alpha: f.alphas ? numberList('alphas', f.alphas as string, share, 'an alpha in (0, 1]') : DEFAULT_GRID.alpha,
    rowRatio: f['row-ratios'] ? numberList('row-ratios', f['row-ratios'] as string, share, 'a rowRatio in (0, 1]') : DEFAULT_GRID.rowRatio,
    windowRatio: f['window-ratios'] ? numberList('window-ratios', f['window-ratios'] as string, ratio, 'a windowRatio in [0, 1]') : DEFAULT_GRID.windowRatio,
    variant,
    blocks: variant === 'tokens' ? undefined : {
      blockSize: f['block-sizes'] ? numberList('block-sizes', f['block-sizes'] as string, (x) => Number.isInteger(x) && x >= 1 && x <= MAX_BLOCK_SIZE, `a blockSize, an integer in [1, ${MAX_BLOCK_SIZE}]`) : DEFAULT_BLOCKS_GRID.blockSize,
      alphaColumn: f['alpha-columns'] ? numberList('alpha-columns', f['alpha-columns'] as string, share, 'an alphaColumn in (0, 1]') : DEFAULT_BLOCKS_GRID.alphaColumn,
      alphaSlash: f['alpha-slashes'] ? numberList('alpha-slashes', f['alpha-slashes'] as string, share, 'an alphaSlash in (0, 1]') : DEFAULT_BLOCKS_GRID.alphaSlash,
      rowRatio: f['blocks-row-ratios'] ? numberList('blocks-row-ratios', f['blocks-row-ratios'] as string, share, 'a rowRatio in (0, 1]') : DEFAULT_BLOCKS_GRID.rowRatio,
    },
  };
  gridPoints(grid); // a bad grid fails before the model loads
  const maxTokens = f['max-tokens'] as number | undefined;

  if (from === 'qk') return tuneCapture(f, rule, grid, maxTokens);

  const s = await openSession(f.model as string, texts[0], maxTokens, false, flagPrecision('tune', f));
  const c = s.checkpoint.config;
  let ids: Int32Array[];
  let report: TuneReport;
  try {
    ids = textIds(s, texts, maxTokens);
    // q/k of every layer of every text, captured once.
    const caps: LayerCapture[][] = Array.from({ length: c.numLayers }, () => []); // [layer][text]
    for (let t = 0; t < texts.length; t++) {
      process.stderr.write(`tune: capturing q/k of ${texts[t]} (${ids[t].length} tokens)\n`);
      const r = await forward(s.model, ids[t], { captureQK: true, logits: 'none' });
      for (let l = 0; l < c.numLayers; l++) caps[l].push({ S: ids[t].length, q: r.q![l], k: r.k![l] });
    }
    const points = gridPoints(grid, Math.min(...ids.map((x) => x.length)));
    const count = (v: string) => points.filter((p) => p.variant === v).length;
    process.stderr.write(`tune: ${points.length} grid points (${count('tokens')} tokens incl. the full mask, ${count('blocks')} blocks) x ${c.numLayers} layers x ${texts.length} text(s); rule: ${ruleText(rule)}\n`);
    const t0 = Date.now();
    report = await tuneModel(s.ctx, { ...headShape(c), tensorCores: s.model.tensorCores }, caps, rule, grid, (l, t, done, of) => {
      if (done === of || done % 10 === 0) process.stderr.write(`  layer ${l + 1}/${c.numLayers}, text ${t + 1}/${texts.length}: grid point ${done}/${of} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    });
  } finally {
    s.model.dispose();
  }
  const { choices, measured } = report;
  const cfg = buildConfig({
    model: modelIdentity(s.checkpoint.name, c),
    // The config records one text: the first; its measures are those of the chosen settings on it.
    text: { tokens: ids[0].length, sha256: createHash('sha256').update(readText(texts[0]), 'utf8').digest('hex') },
    defaults: DEFAULT_PARAMS,
    params: choices.map((l) => l.map((h) => h.params)),
    measured,
  });
  writeFileSync(f.out as string, serializeConfig(cfg));
  console.log(formatTune(s.checkpoint.name, rule, texts, choices));
  process.stderr.write(`tune: wrote ${f.out}\n`);
  return 0;
}

/** `tune --qk`: the same study on a capture's layers, read one at a time; the config's model from
 * the capture's metadata (or the flags); layers the capture lacks keep the defaults, unmeasured. */
async function tuneCapture(f: Record<string, string | number | boolean | undefined>, rule: TuneRule, grid: TuneGrid, maxTokens: number | undefined): Promise<number> {
  const file = f.qk as string;
  const cs = await openCaptureSession('tune', file, maxTokens);
  try {
    const { info } = cs.capture;
    const model = captureIdentity(info, { name: f['model-name'] as string | undefined, family: f.family as string | undefined, numLayers: f['num-layers'] as number | undefined });
    const points = gridPoints(grid, cs.tokens);
    const L = info.layers.length;
    process.stderr.write(`tune: ${points.length} grid points x ${L} captured layers; rule: ${ruleText(rule)}\n`);
    const t0 = Date.now();
    const report = await tuneModel(cs.ctx, { heads: info.heads, kvHeads: info.kvHeads, headDim: info.headDim, tensorCores: flagPrecision('tune', f) === 'f16' ? requireTensorCores(cs.ctx, cs.adapter) : undefined }, captureTuneLayers(cs.capture, cs.tokens), rule, grid, (l, _t, done, of) => {
      if (done === of || done % 10 === 0) process.stderr.write(`  layer ${info.layers[l]} (${l + 1}/${L}): grid point ${done}/${of} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    });
    // Per model layer: the tuned choice where the capture has the layer, the defaults elsewhere.
    const params = toModelLayers(info.layers, model.layers, report.choices.map((l) => l.map((c) => c.params)), () => Array.from({ length: model.heads }, () => ({ ...DEFAULT_SETTINGS.tokens })));
    const measured = toModelLayers(info.layers, model.layers, report.measured, () => []);
    const cfg = buildConfig({
      model,
      text: { tokens: cs.tokens, ...(info.textSha256 && /^[0-9a-f]{64}$/.test(info.textSha256) && cs.tokens === info.S ? { sha256: info.textSha256 } : {}) },
      defaults: DEFAULT_PARAMS,
      params,
      measured,
    });
    writeFileSync(f.out as string, serializeConfig(cfg));
    console.log(formatTune(model.name, rule, [file], report.choices, info.layers));
    if (L < model.layers) process.stderr.write(`tune: the capture holds ${L} of the model's ${model.layers} layers; the others keep the defaults (no measures) in the config.\n`);
    process.stderr.write(`tune: wrote ${f.out}\n`);
    return 0;
  } finally {
    cs.close();
  }
}

/** One head's chosen setting in a table cell. */
function cell(p: HeadChoice['params']): string {
  if (isFullMask(p)) return 'full';
  return p.variant === 'tokens' ? `t ${p.alpha}/${p.rowRatio}/${p.windowRatio}` : `b${p.blockSize} ${p.alphaColumn}/${p.alphaSlash}/${p.rowRatio}`;
}

/** Density per layer x head ('*' marks a head that fell back to the densest setting). */
export function formatTune(model: string, rule: TuneRule, texts: readonly string[], choices: readonly (readonly HeadChoice[])[], layerNames: readonly number[] = choices.map((_, l) => l)): string {
  const heads = choices[0]?.length ?? 0;
  const head = ['layer', ...Array.from({ length: heads }, (_, h) => `h${h}`), 'mean'];
  const rows = choices.map((l, li) => [String(layerNames[li]), ...l.map((c) => `${c.meanDensity.toFixed(3)}${c.met ? ' ' : '*'}`), (l.reduce((a, c) => a + c.meanDensity, 0) / l.length).toFixed(3)]);
  const all = choices.flat();
  const missed = all.filter((c) => !c.met);
  const lines = [
    `model: ${model}; texts: ${texts.join(', ')}`,
    `rule: ${ruleText(rule)}; lowest density wins`,
    '',
    'density of the chosen setting (mean over texts) per layer x head:',
    ...table(head, rows),
    '',
    `model mean density ${(all.reduce((a, c) => a + c.meanDensity, 0) / all.length).toFixed(4)}; worst head recall ${Math.min(...all.map((c) => c.worstRecallMean)).toFixed(4)}; worst head P5 ${Math.min(...all.map((c) => c.worstRecallP5)).toFixed(4)}`,
    missed.length
      ? `* ${missed.length} of ${all.length} heads meet no grid setting; they use the densest one measured (recall shown in the config's "measured"). Widen the grid (--window-ratios up to 1) to reach the target.`
      : `all ${all.length} heads meet the rule.`,
    ...(() => {
      const full = fullMaskHeads(choices).map((x) => x.replace(/^\d+/, (li) => String(layerNames[Number(li)])));
      return full.length ? [`${full.length} head(s) need the full mask (no sparse setting of the grid reached the target): ${full.join(', ')} (layer:head)`] : [];
    })(),
    '',
    `variant chosen: ${variantCountsText(variantCounts(choices))}`,
    '',
    'chosen settings per layer x head (t alpha/rowRatio/windowRatio: tokens; bB alphaColumn/alphaSlash/rowRatio: blocks of block size B; full: the full mask):',
    ...table(['layer', ...Array.from({ length: heads }, (_, h) => `h${h}`)], choices.map((l, li) => [String(layerNames[li]), ...l.map((c) => cell(c.params))])),
  ];
  return lines.join('\n');
}
