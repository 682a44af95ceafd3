// MInference's per-head pattern config (github.com/microsoft/MInference, minference/configs/*.json):
// a JSON list with one object per layer, each mapping a query head's index as a string to
// [pattern, vertical_size, slash_size, score], e.g.
//   [{"0": ["vertical_and_slash", 1000, 6096, 0.962], "1": [...]}, ...]
// MInference reads it as {int(head): entry for each layer's items()}, so a layer object may hold
// nothing but head indices: provenance cannot live in the file (see formats/minference-convert.ts).
// The fourth field is MInference's offline search score; its shipped files hold a float (often a
// recall-like share) or, in older files, an integer count, so we read any finite number >= 0
// without interpreting it, and write the measured recallMean there.
// No Node APIs: the studio can read the same files.
import { ConfigError } from './config-file';

/** The patterns MInference's forward knows; the studio measures the first two (see rivals-masks.ts). */
export const MINFERENCE_PATTERNS = ['vertical_and_slash', 'stream_llm', 'block_sparse'] as const;
export type MInferencePattern = (typeof MINFERENCE_PATTERNS)[number];
/** What `sa-studio rivals --minference` can measure: block_sparse ignores the sizes (its kernel
 * keeps a fixed top-100 blocks), so it has no fixed per-head pattern to measure. */
export const MEASURED_PATTERNS: readonly MInferencePattern[] = ['vertical_and_slash', 'stream_llm'];

export interface MInferenceHead {
  pattern: MInferencePattern;
  /** Key columns kept (vertical_and_slash) or sink keys (stream_llm). */
  verticalSize: number;
  /** Diagonals kept (vertical_and_slash) or local window (stream_llm). */
  slashSize: number;
  /** The fourth field: MInference's search score; ours writes the measured recallMean. */
  score: number;
}

/** layers[l].get(h): MInference falls back to its default for a missing head, so heads may be sparse. */
export type MInferenceConfig = Map<number, MInferenceHead>[];

/** A MInference file that cannot be used: every problem with its path, e.g. `[3]["5"][1]`. */
export class MInferenceConfigError extends ConfigError {
  override name = 'MInferenceConfigError';
  constructor(problems: string[], source: string, what = 'is not a valid MInference config (a JSON list of {"<head>": [pattern, vertical_size, slash_size, score]} per layer; docs/tune-eval.md)') {
    super(problems, source, what);
  }
}

const show = (x: unknown) => (x === undefined ? 'missing' : JSON.stringify(x));
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** Every problem of `x` as a MInference config, each "path: what is wrong"; empty when valid. */
export function minferenceProblems(x: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(x)) return [`config: ${typeof x === 'object' && x !== null ? 'an object' : show(x)} is not a list (MInference's file is a JSON list with one object per layer)`];
  if (x.length === 0) out.push('config: the list is empty; it needs one object per layer');
  x.forEach((layer: unknown, l: number) => {
    if (typeof layer !== 'object' || layer === null || Array.isArray(layer)) return out.push(`[${l}]: ${show(layer)} is not an object of "<head>": [pattern, vertical_size, slash_size, score]`);
    for (const [key, e] of Object.entries(layer as Record<string, unknown>)) {
      const p = `[${l}][${JSON.stringify(key)}]`;
      if (!/^(0|[1-9]\d*)$/.test(key)) out.push(`${p}: the key is not a head index (MInference reads int(key); write "0", "1", ...)`);
      if (!Array.isArray(e)) { out.push(`${p}: ${show(e)} is not a list [pattern, vertical_size, slash_size, score]`); continue; }
      if (e.length !== 4) { out.push(`${p}: has ${e.length} entries; it needs 4: [pattern, vertical_size, slash_size, score]`); continue; }
      if (!(MINFERENCE_PATTERNS as readonly unknown[]).includes(e[0])) out.push(`${p}[0]: pattern ${show(e[0])} is not one of ${MINFERENCE_PATTERNS.join(', ')}`);
      if (!isCount(e[1])) out.push(`${p}[1]: vertical_size ${show(e[1])} is not a non-negative integer`);
      if (!isCount(e[2])) out.push(`${p}[2]: slash_size ${show(e[2])} is not a non-negative integer`);
      if (!(typeof e[3] === 'number' && Number.isFinite(e[3]) && e[3] >= 0)) out.push(`${p}[3]: score ${show(e[3])} is not a finite number >= 0`);
    }
  });
  return out;
}

/** `x` as a MInference config, or a MInferenceConfigError listing every problem with its path. */
export function validateMInference(x: unknown, source = 'the MInference config'): MInferenceConfig {
  const problems = minferenceProblems(x);
  if (problems.length) throw new MInferenceConfigError(problems, source);
  return (x as Record<string, [MInferencePattern, number, number, number]>[]).map(
    (layer) => new Map(Object.entries(layer).map(([h, e]) => [Number(h), { pattern: e[0], verticalSize: e[1], slashSize: e[2], score: e[3] }])),
  );
}

/** Parses the text of a MInference file (JSON) and validates it. */
export function parseMInference(text: string, source = 'the MInference config'): MInferenceConfig {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    throw new MInferenceConfigError([`config: not valid JSON (${(e as Error).message})`], source);
  }
  return validateMInference(x, source);
}

/** The file's text as MInference ships it: one layer per line, heads in index order. */
export function serializeMInference(cfg: MInferenceConfig): string {
  const layers = cfg.map((layer) => {
    const heads = [...layer.entries()].sort((a, b) => a[0] - b[0]);
    return `{${heads.map(([h, e]) => `${JSON.stringify(String(h))}: ${JSON.stringify([e.pattern, e.verticalSize, e.slashSize, e.score])}`).join(', ')}}`;
  });
  const text = `[\n${layers.map((l) => `  ${l}`).join(',\n')}\n]\n`;
  validateMInference(JSON.parse(text), 'serializeMInference output');
  return text;
}

/** The entry of one head, or a MInferenceConfigError naming the missing path. MInference itself
 * would fall back to ("vertical_and_slash", 1000, 6096) for a missing head; measuring that
 * silently would credit the file with a pattern it does not state, so we refuse. */
export function minferenceHead(cfg: MInferenceConfig, layer: number, head: number, source: string): MInferenceHead {
  if (layer >= cfg.length) throw new MInferenceConfigError([`[${layer}]: missing; the file has ${cfg.length} layer(s) and the model more`], source, 'does not fit the model');
  const e = cfg[layer].get(head);
  if (!e) throw new MInferenceConfigError([`[${layer}][${JSON.stringify(String(head))}]: missing; the layer has heads ${[...cfg[layer].keys()].sort((a, b) => a - b).join(', ') || 'none'}`], source, 'does not fit the model');
  if (!MEASURED_PATTERNS.includes(e.pattern)) throw new MInferenceConfigError([`[${layer}][${JSON.stringify(String(head))}][0]: pattern ${e.pattern} has no fixed per-head pattern to measure (its kernel ignores the sizes); the studio measures ${MEASURED_PATTERNS.join(' and ')}`], source, 'cannot be measured');
  return e;
}

/** Checks, before any work, that the file is for a model of `numLayers` layers and states every
 * chosen head with a measurable pattern; throws the first problem with its path. A file of
 * another layer count is for another model: MInference would silently run the missing layers
 * with its default, which is not what the file claims. */
export function checkMInferenceFits(cfg: MInferenceConfig, numLayers: number, layers: readonly number[], heads: readonly number[], source: string): void {
  if (cfg.length !== numLayers) throw new MInferenceConfigError([`config: the file has ${cfg.length} layer(s) and the model ${numLayers}; it was made for another model`], source, 'does not fit the model');
  for (const l of layers) for (const h of heads) minferenceHead(cfg, l, h, source);
}
