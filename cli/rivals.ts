// `sa-studio rivals`: SampleAttention, both variants (`tokens` as 'sampleattention', `blocks` as
// 'sampleattention-blocks'), against its rivals (StreamingLLM, MInference's vertical-slash,
// block top-k, and the oracle) on the model's own heads. One forward captures q/k; then, in CPU
// float64 (src/sampleattention/studies/rivals.ts), every chosen head gets one recall-vs-density curve per pattern.
// Prints the model's mean recall at equal densities and at SampleAttention's own operating point,
// then the same per layer (or per head with --heads); --json writes every curve, --svg a chart
// (src/render/rivals-svg.ts). --minference MI.json adds a MInference config's fixed per-head
// pattern as one more pattern, `minference`: one point per head. Progress to stderr, results to stdout.
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { HELP_FLAG, MODEL_FLAGS, parseFlags, printedHelp, table, UsageError, type FlagSpec } from './args';
import { openSession } from './session';
import { SAMPLE_FLAGS, flagParams } from './sample-flags';
import { numberList } from './eval';
import { forward } from '../src/model/forward';
import type { SampleParams } from '../src/sampleattention/spec/params';
import { BLOCKS_RIVAL_ALPHA, MIN_RIVAL_BLOCKS, recallAtDensity, type CurvePoint, type PatternName, type RivalCurve } from '../src/sampleattention/studies/rivals';
import { rivalOptions, rivalsStudy, type QKCapture, type QKLayerSource, type RivalsStudy } from '../src/sampleattention/studies/rivals-study';
import { rivalsSvg } from '../src/render/rivals-svg';
import { InputError } from '../gpu/errors';
import { readMInferenceFile } from '../src/sampleattention/formats/config-file-node';
import { checkMInferenceFits, type MInferenceConfig } from '../src/sampleattention/formats/minference-file';
import { QK_FLAG, fileSource, modelOrCapture } from './capture-input';
import { CaptureFile } from '../src/sampleattention/formats/capture-file';
import { captureQKLayers } from '../src/sampleattention/studies/capture-sources';
import { VARIANT_FLAGS } from './variant-flags';
import { blocksParamProblem, DEFAULT_BLOCKS_PARAMS, MAX_BLOCK_SIZE } from '../src/sampleattention/spec/blocks/params';

export const DEFAULT_DENSITIES = [0.1, 0.2, 0.3, 0.5];
/** Above this many tokens the CPU float64 curves take long enough to warn. */
export const SLOW_S = 2048;

const SPEC: FlagSpec = {
  model: { ...MODEL_FLAGS.model, required: false, help: 'checkpoint folder or "default" (or --qk)' },
  text: { ...MODEL_FLAGS.text, required: false },
  ...QK_FLAG,
  'max-tokens': { kind: 'number', help: 'keep only the first N tokens (the curves cost O(S^2 d) per head on the CPU)' },
  layers: { kind: 'string', help: 'layers to measure, e.g. "0,3" or "0-3" (default: all)' },
  heads: { kind: 'string', help: 'query heads of each chosen layer, e.g. "0,1" (default: all); prints a table per head' },
  densities: { kind: 'string', help: `densities in (0, 1] at which to compare the patterns (default ${DEFAULT_DENSITIES.join(',')})` },
  ...SAMPLE_FLAGS,
  'block-size': { ...VARIANT_FLAGS['block-size'], help: `the sampleattention-blocks rival's block size (keys per block, diagonals per band), an integer in [1, ${MAX_BLOCK_SIZE}] (default: ${DEFAULT_BLOCKS_PARAMS.blockSize}, halved while the text would have fewer than ${MIN_RIVAL_BLOCKS} blocks); it sweeps alphaColumn = alphaSlash over the alphas at --row-ratio` },
  json: { kind: 'string', help: 'write every curve (per head, per layer, model) with its points as JSON here' },
  svg: { kind: 'string', help: 'write the model-level recall-vs-density chart as a standalone SVG here' },
  minference: { kind: 'string', help: 'a MInference per-head config (JSON list of {"<head>": [pattern, vertical_size, slash_size, score]} per layer): its fixed pattern per head, run as MInference runs it, becomes a `minference` row in every table and a point per head on the chart' },
  ...HELP_FLAG,
};

const SUMMARY = 'recall-vs-density curves of SampleAttention (variants tokens and blocks) and its rivals (StreamingLLM, vertical-slash, block top-k, oracle) on the model\'s heads, CPU float64';

export interface RivalsArgs {
  /** --model and --text, or --qk: a capture file. */
  model?: string;
  text?: string;
  qk?: string;
  maxTokens?: number;
  /** Undefined: all. Sorted, unique. */
  layers?: number[];
  heads?: number[];
  densities: number[];
  params: SampleParams;
  /** The blocks rival's block size; undefined: rivalBlockSize of the tokens measured. */
  blockSize?: number;
  json?: string;
  svg?: string;
  /** A MInference config file to measure beside the patterns. */
  minference?: string;
}

/** "0,3", "0-3", "0-2,5": sorted unique non-negative integers. */
export function indexList(flag: string, s: string): number[] {
  const out = new Set<number>();
  const parts = s.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  if (parts.length === 0) throw new UsageError(`rivals: --${flag} wants a comma-separated list of indices from 0, e.g. "0,3" or "0-3"; got "${s}".`);
  for (const t of parts) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(t);
    if (!m) throw new UsageError(`rivals: --${flag}: "${t}" is not an index or a range a-b of indices (counted from 0), e.g. "0,3" or "0-3".`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UsageError(`rivals: --${flag}: the range "${t}" runs backwards; write ${b}-${a}.`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** The flags, checked before any model is loaded. */
export function parseRivalsArgs(argv: readonly string[]): RivalsArgs {
  const f = parseFlags('rivals', argv, SPEC);
  modelOrCapture('rivals', f);
  const params = flagParams('rivals', f);
  const maxTokens = f['max-tokens'] as number | undefined;
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens >= 1)) {
    throw new UsageError(`rivals: --max-tokens must be a positive integer, got ${maxTokens}.`);
  }
  const blockSize = f['block-size'] as number | undefined;
  const badBlock = blockSize === undefined ? null : blocksParamProblem('blockSize', blockSize);
  if (badBlock) throw new UsageError(`rivals: --block-size ${badBlock}.`);
  let densities = DEFAULT_DENSITIES;
  if (f.densities !== undefined) {
    try {
      densities = [...new Set(numberList('densities', f.densities as string, (x) => x > 0 && x <= 1, 'a density in (0, 1]'))].sort((a, b) => a - b);
    } catch (e) {
      throw new UsageError(`rivals: ${(e as Error).message} Give comma-separated shares of the causal map, e.g. --densities ${DEFAULT_DENSITIES.join(',')}.`);
    }
  }
  return {
    model: f.model as string | undefined,
    text: f.text as string | undefined,
    qk: f.qk as string | undefined,
    maxTokens,
    layers: f.layers === undefined ? undefined : indexList('layers', f.layers as string),
    heads: f.heads === undefined ? undefined : indexList('heads', f.heads as string),
    densities,
    params,
    blockSize,
    json: f.json as string | undefined,
    svg: f.svg as string | undefined,
    minference: f.minference as string | undefined,
  };
}

/** The chosen layers and heads against the model's shape; out of range is a usage error. */
export function resolveSelection(a: Pick<RivalsArgs, 'layers' | 'heads'>, numLayers: number, numHeads: number): { layers: number[]; heads: number[] } {
  const layers = a.layers ?? Array.from({ length: numLayers }, (_, l) => l);
  const heads = a.heads ?? Array.from({ length: numHeads }, (_, h) => h);
  const badL = layers.filter((l) => l >= numLayers);
  if (badL.length) throw new UsageError(`rivals: --layers ${badL.join(',')} out of range: the model has ${numLayers} layers (0..${numLayers - 1}).`);
  const badH = heads.filter((h) => h >= numHeads);
  if (badH.length) throw new UsageError(`rivals: --heads ${badH.join(',')} out of range: the model has ${numHeads} query heads per layer (0..${numHeads - 1}).`);
  return { layers, heads };
}

export { rivalOptions };

/** What `sa-studio rivals` prints and writes: the library's study plus what it was run on. */
export interface RivalsReport extends Omit<RivalsStudy, 'of'> {
  model: string;
  text: string;
  params: SampleParams;
  densities: number[];
  /** True when --heads was given: the detail tables are per head, not per layer. */
  perHead: boolean;
  /** The MInference file measured as the 'minference' pattern, when one was given. */
  minference?: string;
}

/** SampleAttention's point at its operating alpha on a set of curves. */
export function operatingPoint(curves: readonly RivalCurve[], alpha: number): { density: number; recall: number } {
  const sa = curves.find((c) => c.pattern === 'sampleattention');
  const p = sa?.points.find((x) => x.knob === alpha);
  if (!p) throw new Error(`rivals: no SampleAttention point at alpha ${alpha} (the sweep holds ${sa?.points.map((x) => x.knob).join(', ')}).`);
  return { density: p.density, recall: p.recallMean };
}

/** The blocks variant's point at its operating alpha (alphaColumn = alphaSlash = BLOCKS_RIVAL_ALPHA)
 * on a set of curves; undefined when the sweep does not hold it. */
export function blocksOperatingPoint(curves: readonly RivalCurve[]): CurvePoint | undefined {
  return curves.find((c) => c.pattern === 'sampleattention-blocks')?.points.find((x) => x.knob === BLOCKS_RIVAL_ALPHA);
}

const fmtRecall = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '-');
const fmtKnob = (x: number) => String(Number(x.toPrecision(6)));

/** "alpha 0.5..1" from a curve's knob and its swept values; the knob alone when nothing is swept. */
export function knobText(c: RivalCurve): string {
  const ks = c.points.map((p) => p.knob);
  if (c.points.length === 1) return c.knob;
  return `${c.knob}: ${fmtKnob(Math.min(...ks))}..${fmtKnob(Math.max(...ks))}`;
}

export const sparsest = (c: RivalCurve) => Math.min(...c.points.map((p) => p.density));

/** Rows = pattern; recall at each density, then at the operating point; with the knob when asked. */
export function curveRows(curves: readonly RivalCurve[], densities: readonly number[], alpha: number, withKnob: boolean): { rows: string[][]; op: { density: number; recall: number }; missing: Set<PatternName> } {
  const op = operatingPoint(curves, alpha);
  const missing = new Set<PatternName>();
  const rows = curves.map((c) => {
    const at = densities.map((x) => recallAtDensity(c, x));
    const atOp = c.pattern === 'sampleattention' ? op.recall : recallAtDensity(c, op.density);
    if ([...at, atOp].some((x) => Number.isNaN(x))) missing.add(c.pattern);
    return [c.pattern, ...at.map(fmtRecall), fmtRecall(atOp), ...(withKnob ? [knobText(c)] : [])];
  });
  return { rows, op, missing };
}

const dHead = (densities: readonly number[]) => densities.map((x) => `@${fmtKnob(x)}`);

/** The model-level table, its notes, and the per-layer (or per-head) tables. */
export function formatRivals(r: RivalsReport): string {
  const a = r.params.alpha;
  const nHeads = r.head_curves.length;
  const out: string[] = [
    `model: ${r.model}; text: ${r.text} (${r.tokens} tokens); ${r.layers.length} layer(s) x ${r.heads.length} head(s) = ${nHeads} heads; CPU float64, ${r.seconds.toFixed(1)} s`,
    `SampleAttention, both variants: sampleattention = variant tokens (rowRatio ${r.params.rowRatio}, windowRatio ${r.params.windowRatio} fixed, alpha swept; its operating point, @SA, is alpha ${a}); sampleattention-blocks = variant blocks (block ${r.blockSize}, rowRatio ${r.params.rowRatio}, alphaColumn = alphaSlash swept over the same alphas).`,
    `Cells: mean row recall (of the full softmax) at equal density, linear between each curve's measured points; model = mean over the ${nHeads} heads of density and recall at each knob value.`,
    '',
  ];
  const m = curveRows(r.model_curves, r.densities, a, true);
  out.push(`model (SampleAttention's operating point: density ${m.op.density.toFixed(4)}, recall ${m.op.recall.toFixed(4)}):`);
  out.push(...table(['pattern', ...dHead(r.densities), `@SA ${m.op.density.toFixed(3)}`, 'knob: swept'], m.rows, [0, r.densities.length + 2]));
  const bp = blocksOperatingPoint(r.model_curves);
  if (bp) {
    const tokens = recallAtDensity(r.model_curves[0], bp.density);
    out.push(`sampleattention-blocks at its defaults (alphaColumn = alphaSlash = ${BLOCKS_RIVAL_ALPHA}, block ${r.blockSize}): density ${bp.density.toFixed(4)}, recall ${bp.recallMean.toFixed(4)}; sampleattention (tokens) at that density: ${fmtRecall(tokens)}.`);
  }
  const mi = r.model_curves.find((c) => c.pattern === 'minference')?.points[0];
  if (mi) {
    const sa = recallAtDensity(r.model_curves[0], mi.density);
    out.push(`minference: ${r.minference ?? 'the MInference file'}'s fixed sizes per head, run as MInference's kernel runs them (vertical_and_slash: at least 30 columns and 50 diagonals, the first 30 columns and the 30 most recent diagonals always; stream_llm: sinks and window).`);
    out.push(`   Its point (mean over heads): density ${mi.density.toFixed(4)}, recall ${mi.recallMean.toFixed(4)}; SampleAttention at that density: ${fmtRecall(sa)}. One point per head, so no value below its density, and its own recall above it.`);
  }
  const missing = new Set(m.missing);
  const detail: string[][] = [];
  const groups = r.perHead
    ? r.head_curves.map((e) => ({ label: `${e.layer}:${e.head}`, curves: e.curves }))
    : r.layer_curves.map((e) => ({ label: String(e.layer), curves: e.curves }));
  for (const g of groups) {
    const x = curveRows(g.curves, r.densities, a, false);
    for (const p of x.missing) missing.add(p);
    x.rows.forEach((row, i) => {
      const sa = row[0] === 'sampleattention';
      detail.push([i === 0 ? g.label : '', ...row.slice(0, -1), sa ? `${row[row.length - 1]} (d ${x.op.density.toFixed(3)})` : row[row.length - 1]]);
    });
  }
  if (missing.size) {
    const why = r.model_curves.filter((c) => missing.has(c.pattern)).map((c) => `${c.pattern} ${sparsest(c).toFixed(3)}`).join(', ');
    out.push(`-: the pattern's sweep never gets that sparse, so there is no honest value (sparsest model-level density: ${why}; per ${r.perHead ? 'head' : 'layer'} it varies).`);
    if (missing.has('sampleattention')) out.push(`   SampleAttention cannot go below its local window (windowRatio ${r.params.windowRatio}) plus the keys its lowest alpha keeps; a smaller --window-ratio reaches lower densities.`);
    if (missing.has('sampleattention-blocks')) out.push(`   sampleattention-blocks keeps at least one column block and slash band 0 (block ${r.blockSize}); a smaller --block-size reaches lower densities.`);
  }
  out.push('');
  out.push(r.perHead ? 'per head (layer:head); @SA = at that head\'s own operating density d:' : 'per layer (mean over its heads); @SA = at that layer\'s own operating density d:');
  out.push(...table([r.perHead ? 'head' : 'layer', 'pattern', ...dHead(r.densities), '@SA'], detail, [0, 1]));
  return out.join('\n');
}

export async function rivalsCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'rivals', SUMMARY, SPEC)) return 0;
  const a = parseRivalsArgs(argv);
  if (a.text !== undefined && !existsSync(a.text)) throw new InputError(`--text ${a.text}: no such file. Give a UTF-8 text file.`, { file: a.text });
  // Fail before the minutes of work, not after.
  for (const [flag, file] of [['json', a.json], ['svg', a.svg]] as const) {
    if (file !== undefined && !existsSync(dirname(resolve(file)))) throw new UsageError(`rivals: --${flag} ${file}: the folder ${dirname(resolve(file))} does not exist; create it or write elsewhere.`);
  }
  const mi = a.minference === undefined ? undefined : readMInferenceFile(a.minference);
  const report = a.qk !== undefined ? await rivalsOfCapture(a, a.qk, mi) : await rivalsOfModel(a, mi);
  console.log(formatRivals(report));
  if (a.json !== undefined) {
    writeFileSync(a.json, JSON.stringify({ ...report, operatingPoint: operatingPoint(report.model_curves, a.params.alpha) }, null, 1) + '\n');
    process.stderr.write(`rivals: wrote ${a.json}\n`);
  }
  if (a.svg !== undefined) {
    writeFileSync(a.svg, reportSvg(report));
    process.stderr.write(`rivals: wrote ${a.svg}\n`);
  }
  return 0;
}

/** The study on chosen layers and heads of q/k held or read per layer: the one path of --model and --qk. */
async function runStudy(a: RivalsArgs, cap: QKCapture | QKLayerSource, numLayers: number, mi: MInferenceConfig | undefined, names: { model: string; text: string }): Promise<RivalsReport> {
  const sel = resolveSelection(a, numLayers, cap.numHeads);
  if (mi) checkMInferenceFits(mi, numLayers, sel.layers, sel.heads, a.minference!);
  const S = Math.min(cap.S, a.maxTokens ?? cap.S);
  if (S > SLOW_S) {
    process.stderr.write(`rivals: warning: S = ${S} tokens. The curves cost O(S^2 d) per head in CPU float64 and hold S (S + 1) / 2 = ${(S * (S + 1)) / 2} entries per head; this will be slow (minutes for ${sel.layers.length * sel.heads.length} heads). Limit it with --max-tokens ${SLOW_S / 2}, or fewer --layers / --heads.\n`);
  }
  process.stderr.write(`rivals: ${sel.layers.length} layer(s) x ${sel.heads.length} head(s), ${mi ? '6 patterns and the MInference file' : '6 patterns'} each, CPU float64\n`);
  const { of: _, ...part } = await rivalsStudy(cap, sel.layers, sel.heads, a.params, S, {
    onLayer: (l, done, of, sec) => process.stderr.write(`  layer ${l} (${done}/${of}): ${sel.heads.length} head(s) done, ${sec.toFixed(1)} s\n`),
  }, mi && { config: mi, source: a.minference! }, { blockSize: a.blockSize });
  return { model: names.model, text: names.text, params: a.params, densities: a.densities, perHead: a.heads !== undefined, ...part, ...(a.minference ? { minference: a.minference } : {}) };
}

async function rivalsOfModel(a: RivalsArgs, mi: MInferenceConfig | undefined): Promise<RivalsReport> {
  const s = await openSession(a.model!, a.text!, a.maxTokens);
  const c = s.checkpoint.config;
  const S = s.ids.length;
  try {
    resolveSelection(a, c.numLayers, c.numHeads); // a bad --layers fails before the forward pass
    process.stderr.write(`rivals: capturing q/k of ${a.text} (${S} tokens)\n`);
    const fw = await forward(s.model, s.ids, { captureQK: true, logits: 'none' });
    const cap: QKCapture = { S, d: c.headDim, numHeads: c.numHeads, numKvHeads: c.numKvHeads, q: fw.q!, k: fw.k! };
    return await runStudy(a, cap, c.numLayers, mi, { model: s.checkpoint.name, text: a.text! });
  } finally {
    s.model.dispose();
  }
}

/** --qk: the capture's layers (indices 0.. of the captured ones; --layers counts them so), read
 * one at a time and only their first --max-tokens rows. */
async function rivalsOfCapture(a: RivalsArgs, file: string, mi: MInferenceConfig | undefined): Promise<RivalsReport> {
  const src = fileSource(file);
  try {
    const cf = await CaptureFile.open(src, file);
    const { info } = cf;
    if (info.layers.some((l, i) => l !== i)) process.stderr.write(`rivals: the capture holds model layers ${info.layers.join(', ')}; --layers and the tables count them 0..${info.layers.length - 1}.\n`);
    return await runStudy(a, captureQKLayers(cf), info.layers.length, mi, { model: info.model.name ?? basename(file), text: file });
  } finally {
    src.close();
  }
}

/** The chart of a report's model-level curves. */
export function reportSvg(r: RivalsReport): string {
  const op = operatingPoint(r.model_curves, r.params.alpha);
  const perHead = r.head_curves.flatMap((e) => e.curves.filter((c) => c.pattern === 'minference').map((c) => c.points[0]));
  // Each head's blocks point at the variant's defaults: how far the heads spread around the mean.
  const blocksHeads = r.head_curves.flatMap((e) => blocksOperatingPoint(e.curves) ?? []);
  const headPoints = [
    ...(blocksHeads.length ? [{ pattern: 'sampleattention-blocks' as const, points: blocksHeads, label: `blocks per head, alpha ${BLOCKS_RIVAL_ALPHA}` }] : []),
    ...(perHead.length ? [{ pattern: 'minference' as const, points: perHead }] : []),
  ];
  return rivalsSvg(r.model_curves, {
    ...(headPoints.length ? { headPoints } : {}),
    title: `Recall vs density: SampleAttention (tokens, blocks) and rivals (${r.model})`,
    subtitle: `${basename(r.text)}, ${r.tokens} tokens; mean over ${r.head_curves.length} heads; rowRatio ${r.params.rowRatio}, windowRatio ${r.params.windowRatio}, block ${r.blockSize}; CPU float64`,
    operatingPoint: { ...op, label: `SampleAttention (tokens), alpha ${r.params.alpha}: density ${op.density.toFixed(3)}, recall ${op.recall.toFixed(3)}` },
  });
}
