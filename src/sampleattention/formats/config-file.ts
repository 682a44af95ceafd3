// The per-head configuration file the studio exports and the command line reads: every head's
// SampleAttention setting (its variant, tokens or blocks, and that variant's parameters) for every
// layer of one model, plus what it measured on one text. Version 2 (this writer's) names each
// head's variant; version 1 (tokens only, no variant) is still read, as all heads tokens.
// The format is described by src/sampleattention/formats/config-schema.json and docs/config-schema.md; this file
// checks the same rules (and the cross-field ones a JSON Schema cannot state: layer and head
// counts, heads a multiple of kvHeads) and reports every problem with its exact path, e.g.
// "layers[2].heads[5].alpha: 1.7 is outside (0, 1]".
import { FAMILIES, type Family } from '../../model/config';
import { PARAM_KEYS, paramProblem, type SampleParams } from '../spec/params';
import { BLOCKS_PARAM_NAMES, blocksParamProblem, DEFAULT_BLOCKS_PARAMS, type BlocksParams } from '../spec/blocks/params';
import { asHeadSetting, settingParams, settingProblems, type HeadSetting, type SettingLike } from '../spec/setting';
import { InputError } from '../../../gpu/errors';

/** The version this writer writes. */
export const CONFIG_VERSION = 2;
/** The versions this reader reads (1: tokens only, read as all heads tokens). */
export const CONFIG_VERSIONS = [1, 2] as const;

export { FAMILIES };
// Compile-time check that FAMILIES lists every Family: fails to type-check when one is added.
const everyFamily: Exclude<Family, (typeof FAMILIES)[number]> extends never ? true : never = true;
void everyFamily;

export interface ModelIdentity {
  name: string;
  family: Family;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

export interface HeadMeasures {
  recallMean: number;
  recallMin: number;
  recallP5: number;
  density: number;
}

/** One head: its setting (variant and parameters) and, optionally, what it measured. */
export type HeadConfig = HeadSetting & { measured?: HeadMeasures };

/** Each variant's starting parameters (the studio starts every head from `tokens`). */
export interface ConfigDefaults {
  tokens: SampleParams;
  blocks: BlocksParams;
}

/** A config as read and written: always version 2 in memory (a version-1 file is upgraded). */
export interface SampleConfig {
  version: 2;
  model: ModelIdentity;
  text: { tokens: number; sha256?: string };
  defaults: ConfigDefaults;
  layers: { heads: HeadConfig[] }[];
}

/** A per-head config that cannot be used: every problem as "path: what is wrong"; `file` is the
 * source and `key` the JSON path of the first problem (e.g. "layers[2].heads[5].alpha"). */
export class ConfigError extends InputError {
  override name = 'ConfigError';
  /** JSON paths of the problems, in order ("config" for the whole document). */
  readonly paths: string[];
  constructor(readonly problems: string[], source: string, what = 'is not a valid SampleAttention config (docs/config-schema.md)') {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    const paths = problems.map((p) => /^([^:\s]+):/.exec(p)?.[1] ?? 'config');
    super(`${source} ${what}:\n  ${shown.join('\n  ')}${more}`, { file: source, key: paths[0] });
    this.paths = paths;
  }
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown) => (x === undefined ? 'missing' : JSON.stringify(x));

/** Every problem of `x` as a config, each "path: what is wrong"; empty when valid. */
export function configProblems(x: unknown): string[] {
  const out: string[] = [];
  const at = (path: string, msg: string) => out.push(`${path}: ${msg}`);

  const object = (v: unknown, path: string, required: readonly string[], optional: readonly string[] = []): v is Obj => {
    if (!isObj(v)) {
      at(path, `${show(v)} is not an object`);
      return false;
    }
    const allowed = [...required, ...optional];
    for (const key of Object.keys(v)) if (!allowed.includes(key)) at(join(path, key), `unknown field (expected one of ${allowed.join(', ')})`);
    for (const key of required) if (!(key in v)) at(join(path, key), 'missing');
    return true;
  };
  const posInt = (v: unknown, path: string) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) at(path, `${show(v)} is not a positive integer`);
  };
  const inRange = (v: unknown, path: string, lo: number, hi: number, lowOpen: boolean) => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) return at(path, `${show(v)} is not a finite number`);
    if ((lowOpen ? v <= lo : v < lo) || v > hi) at(path, `${v} is outside ${lowOpen ? '(' : '['}${lo}, ${hi}]`);
  };
  const params = (v: Obj, path: string) => {
    for (const name of PARAM_KEYS) {
      if (v[name] === undefined) continue;
      const problem = paramProblem(name, v[name]);
      if (problem) at(join(path, name), problem);
    }
  };
  const blocksParams = (v: Obj, path: string) => {
    for (const name of BLOCKS_PARAM_NAMES) {
      if (v[name] === undefined) continue;
      const problem = blocksParamProblem(name, v[name]);
      if (problem) at(join(path, name), problem);
    }
  };
  const measured = (m: unknown, path: string) => {
    if (m !== undefined && object(m, path, ['recallMean', 'recallMin', 'recallP5', 'density'])) {
      for (const key of ['recallMean', 'recallMin', 'recallP5']) inRange(m[key], `${path}.${key}`, 0, 1, false);
      inRange(m.density, `${path}.density`, 0, 1, true);
    }
  };

  if (!object(x, 'config', ['version', 'model', 'text', 'defaults', 'layers'])) return out;
  if (x.version !== undefined && !(CONFIG_VERSIONS as readonly unknown[]).includes(x.version)) at('version', `${show(x.version)} is not a version this reader knows (expected ${CONFIG_VERSIONS.join(' or ')})`);
  const v1 = x.version === 1;

  let layers = 0, heads = 0;
  if (x.model !== undefined && object(x.model, 'model', ['name', 'family', 'layers', 'heads', 'kvHeads', 'headDim'])) {
    const m = x.model;
    if (m.name !== undefined && !(typeof m.name === 'string' && m.name.length > 0)) at('model.name', `${show(m.name)} is not a non-empty string`);
    if (m.family !== undefined && !(FAMILIES as readonly unknown[]).includes(m.family)) at('model.family', `${show(m.family)} is not one of ${FAMILIES.join(', ')}`);
    for (const key of ['layers', 'heads', 'kvHeads', 'headDim']) posInt(m[key], `model.${key}`);
    if (Number.isInteger(m.heads) && Number.isInteger(m.kvHeads) && (m.heads as number) >= 1 && (m.kvHeads as number) >= 1 && (m.heads as number) % (m.kvHeads as number) !== 0) {
      at('model.kvHeads', `heads (${m.heads}) is not a multiple of kvHeads (${m.kvHeads})`);
    }
    if (Number.isInteger(m.layers)) layers = m.layers as number;
    if (Number.isInteger(m.heads)) heads = m.heads as number;
  }
  if (x.text !== undefined && object(x.text, 'text', ['tokens'], ['sha256'])) {
    posInt(x.text.tokens, 'text.tokens');
    const h = x.text.sha256;
    if (h !== undefined && !(typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) at('text.sha256', `${show(h)} is not 64 lower-case hex digits`);
  }
  if (x.defaults !== undefined) {
    if (v1) {
      if (object(x.defaults, 'defaults', PARAM_KEYS)) params(x.defaults, 'defaults');
    } else if (object(x.defaults, 'defaults', ['tokens', 'blocks'])) {
      if (x.defaults.tokens !== undefined && object(x.defaults.tokens, 'defaults.tokens', PARAM_KEYS)) params(x.defaults.tokens, 'defaults.tokens');
      if (x.defaults.blocks !== undefined && object(x.defaults.blocks, 'defaults.blocks', BLOCKS_PARAM_NAMES)) blocksParams(x.defaults.blocks, 'defaults.blocks');
    }
  }

  if (x.layers !== undefined) {
    if (!Array.isArray(x.layers)) at('layers', `${show(x.layers)} is not an array`);
    else {
      if (layers >= 1 && x.layers.length !== layers) at('layers', `has ${x.layers.length} entries but model.layers is ${layers}`);
      x.layers.forEach((layer: unknown, l: number) => {
        const lp = `layers[${l}]`;
        if (!object(layer, lp, ['heads'])) return;
        if (layer.heads === undefined) return;
        if (!Array.isArray(layer.heads)) return at(`${lp}.heads`, `${show(layer.heads)} is not an array`);
        if (heads >= 1 && layer.heads.length !== heads) at(`${lp}.heads`, `has ${layer.heads.length} entries but model.heads is ${heads}`);
        layer.heads.forEach((head: unknown, h: number) => {
          const hp = `${lp}.heads[${h}]`;
          if (v1) {
            if (!object(head, hp, PARAM_KEYS, ['measured'])) return;
            params(head, hp);
          } else {
            // Version 2: the variant, then exactly that variant's parameters (another variant's is unknown).
            const problems = settingProblems(head, ['measured']);
            for (const [field, why] of problems) at(field ? `${hp}.${field}` : hp, why);
            if (!isObj(head)) return;
          }
          measured(head.measured, `${hp}.measured`);
        });
      });
    }
  }
  return out;
}

function join(path: string, key: string): string {
  return path === 'config' ? key : `${path}.${key}`;
}

/** `x` as a config (a version-1 one upgraded to version 2: every head tokens, the blocks
 * defaults the spec's), or a ConfigError listing every problem with its path. */
export function validateConfig(x: unknown, source = 'the config'): SampleConfig {
  const problems = configProblems(x);
  if (problems.length) throw new ConfigError(problems, source);
  const c = x as Obj;
  if (c.version !== 1) return x as SampleConfig;
  const v1 = x as { model: ModelIdentity; text: SampleConfig['text']; defaults: SampleParams; layers: { heads: (SampleParams & { measured?: HeadMeasures })[] }[] };
  return {
    version: CONFIG_VERSION,
    model: v1.model,
    text: v1.text,
    defaults: { tokens: v1.defaults, blocks: { ...DEFAULT_BLOCKS_PARAMS } },
    layers: v1.layers.map((l) => ({ heads: l.heads.map((h) => withMeasured(asHeadSetting(h), h.measured)) })),
  };
}

function withMeasured(s: HeadSetting, m: HeadMeasures | undefined): HeadConfig {
  return m ? { ...s, measured: m } : s;
}

/** Parses the text of a config file (JSON) and validates it. */
export function parseConfig(text: string, source = 'the config'): SampleConfig {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`config: not valid JSON (${(e as Error).message}); the file is truncated or not a config: export it again from the studio or write it with \`sa-studio tune\``], source);
  }
  return validateConfig(x, source);
}

/** The file's text: two-space JSON, one head per line, so a diff shows which heads changed. */
export function serializeConfig(cfg: SampleConfig): string {
  validateConfig(cfg, 'serializeConfig input');
  const lines = [
    '{',
    `  "version": ${cfg.version},`,
    `  "model": ${JSON.stringify(cfg.model)},`,
    `  "text": ${JSON.stringify(cfg.text)},`,
    `  "defaults": ${JSON.stringify({ tokens: cfg.defaults.tokens, blocks: cfg.defaults.blocks })},`,
    '  "layers": [',
    ...cfg.layers.map((layer, l) => {
      // The variant first, then its parameters in the spec's order, then the measures.
      const heads = layer.heads.map((h, t) => `      ${JSON.stringify(withMeasured(asHeadSetting(h), h.measured))}${t < layer.heads.length - 1 ? ',' : ''}`);
      return ['    { "heads": [', ...heads, `    ] }${l < cfg.layers.length - 1 ? ',' : ''}`].join('\n');
    }),
    '  ]',
    '}',
  ];
  return lines.join('\n') + '\n';
}

/** Measures as written to a config: recall clamped to [0, 1], because a float64 sum of a whole
 * softmax row can exceed 1 by rounding (~1e-15) and the format promises [0, 1]. */
export function measuresForConfig(m: HeadMeasures): HeadMeasures {
  const c = (x: number) => Math.min(1, Math.max(0, x));
  return { recallMean: c(m.recallMean), recallMin: c(m.recallMin), recallP5: c(m.recallP5), density: m.density };
}

/** A config from per-layer, per-head settings (HeadSetting of either variant, or SampleParams =
 * tokens) and optionally their measures (same shape). `defaults`: both variants', or the tokens
 * ones alone (the blocks defaults are then the spec's). */
export function buildConfig(args: {
  model: ModelIdentity;
  text: { tokens: number; sha256?: string };
  defaults: ConfigDefaults | SampleParams;
  params: readonly (readonly SettingLike[])[];
  measured?: readonly (readonly (HeadMeasures | undefined)[])[];
}): SampleConfig {
  const d = args.defaults as Partial<ConfigDefaults>;
  const defaults: ConfigDefaults = d.tokens && d.blocks
    ? { tokens: settingParams(asHeadSetting(d.tokens)) as SampleParams, blocks: settingParams(asHeadSetting({ variant: 'blocks', ...d.blocks })) as BlocksParams }
    : { tokens: settingParams(asHeadSetting(args.defaults as SampleParams)) as SampleParams, blocks: { ...DEFAULT_BLOCKS_PARAMS } };
  const cfg: SampleConfig = {
    version: CONFIG_VERSION,
    model: { ...args.model },
    text: args.text.sha256 === undefined ? { tokens: args.text.tokens } : { tokens: args.text.tokens, sha256: args.text.sha256 },
    defaults,
    layers: args.params.map((layer, l) => ({
      heads: layer.map((p, h) => {
        const m = args.measured?.[l]?.[h];
        return withMeasured(asHeadSetting(p), m ? measuresForConfig(m) : undefined);
      }),
    })),
  };
  return validateConfig(cfg, 'buildConfig result');
}

/** The setting (variant and parameters) of one head. */
export function headParams(cfg: SampleConfig, layer: number, head: number): HeadSetting {
  const h = cfg.layers[layer]?.heads[head];
  if (!h) throw new RangeError(`the config has no layer ${layer} head ${head} (it has ${cfg.layers.length} layers of ${cfg.model.heads} heads).`);
  return asHeadSetting(h);
}
export const headSetting = headParams;

/** The identity a config records, from a loaded model's name and config. */
export function modelIdentity(name: string, c: { family: ModelIdentity['family']; numLayers: number; numHeads: number; numKvHeads: number; headDim: number }): ModelIdentity {
  return { name, family: c.family, layers: c.numLayers, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim };
}

/** Throws when the config's model differs in shape from the open one (family, layers, heads,
 * kvHeads, headDim); returns a warning (or null) when only the name differs, since the same
 * checkpoint can sit in folders of different names. */
export function checkConfigFits(cfg: SampleConfig, actual: ModelIdentity, source: string): string | null {
  const wrong: string[] = [];
  for (const key of ['family', 'layers', 'heads', 'kvHeads', 'headDim'] as const) {
    if (cfg.model[key] !== actual[key]) wrong.push(`model.${key}: config ${cfg.model[key]}, model ${actual[key]}`);
  }
  if (wrong.length) throw new ConfigError(wrong, source, `was made for another model (${cfg.model.name}) than the open one (${actual.name}); tune a config for this model with \`sa-studio tune\``);
  return cfg.model.name === actual.name ? null : `${source} names model "${cfg.model.name}" but the open model is "${actual.name}"; the shapes match, so it is used.`;
}

/** settings[layer][head] from a config. */
export function configParams(cfg: SampleConfig): HeadSetting[][] {
  return cfg.layers.map((layer, l) => layer.heads.map((_, h) => headParams(cfg, l, h)));
}

/** The measures a config records for a head, from a selection (GPU run or reference). */
export function measuresOf(h: HeadMeasures): HeadMeasures {
  return { recallMean: h.recallMean, recallMin: h.recallMin, recallP5: h.recallP5, density: h.density };
}
