// One head's SampleAttention setting: the variant (docs/SAMPLEATTENTION.md: `tokens`, the
// seed's version and the default, or `blocks`, the MLSys 2025 revision) with that variant's
// parameters, and what a head's selection gives back, tagged the same way. The one home of both
// unions: the GPU run, the config file, the CLI and the studies take a HeadSetting per head.
import { DEFAULT_PARAMS, PARAM_KEYS, paramProblem, type SampleParams } from './params';
import { BLOCKS_PARAM_NAMES, blocksParamProblem, DEFAULT_BLOCKS_PARAMS, type BlocksParams } from './blocks/params';
import type { HeadSelection } from './selection';
import type { BlocksHeadSelection } from './blocks/reference';

export type Variant = 'tokens' | 'blocks';
export const VARIANTS: readonly Variant[] = ['tokens', 'blocks'];

export type TokensSetting = { variant: 'tokens' } & SampleParams;
export type BlocksSetting = { variant: 'blocks' } & BlocksParams;
/** What one head runs: a variant and its parameters. */
export type HeadSetting = TokensSetting | BlocksSetting;
/** A HeadSetting, or plain SampleParams: the `tokens` variant, the only one before config v2 (so
 * every caller that still holds SampleParams keeps working, e.g. the studio's sliders). */
export type SettingLike = HeadSetting | SampleParams;

/** Each variant's parameter names, in the spec's order. */
export const SETTING_KEYS = { tokens: PARAM_KEYS, blocks: BLOCKS_PARAM_NAMES } as const;

/** The spec's defaults of each variant. */
export const DEFAULT_SETTINGS: { tokens: TokensSetting; blocks: BlocksSetting } = {
  tokens: { variant: 'tokens', ...DEFAULT_PARAMS },
  blocks: { variant: 'blocks', ...DEFAULT_BLOCKS_PARAMS },
};

export const tokensSetting = (p: SampleParams): TokensSetting => ({ variant: 'tokens', alpha: p.alpha, rowRatio: p.rowRatio, windowRatio: p.windowRatio });
export const blocksSetting = (p: BlocksParams): BlocksSetting => ({ variant: 'blocks', blockSize: p.blockSize, alphaColumn: p.alphaColumn, alphaSlash: p.alphaSlash, rowRatio: p.rowRatio });

/** The setting of `x` with exactly its variant's fields (a SampleParams without `variant` is
 * `tokens`); not validated (validateSetting). */
export function asHeadSetting(x: SettingLike): HeadSetting {
  const v = (x as { variant?: unknown }).variant;
  if (v === 'blocks') return blocksSetting(x as BlocksParams);
  if (v === undefined || v === 'tokens') return tokensSetting(x as SampleParams);
  throw new RangeError(`SampleAttention variant ${JSON.stringify(v)} is not one of ${VARIANTS.join(', ')}.`);
}

/** The parameters without the tag. */
export function settingParams(s: TokensSetting): SampleParams;
export function settingParams(s: BlocksSetting): BlocksParams;
export function settingParams(s: HeadSetting): SampleParams | BlocksParams;
export function settingParams(s: HeadSetting): SampleParams | BlocksParams {
  const { variant: _, ...rest } = asHeadSetting(s);
  return rest;
}

/** Every problem of `x` as a head setting, as [field, reason] pairs ("variant" for the tag; a
 * field of the other variant or none is reported as unknown). Empty when valid. `requireVariant`
 * false lets a setting without `variant` stand for `tokens` (config version 1). */
export function settingProblems(x: unknown, allowed: readonly string[] = [], requireVariant = true): [string, string][] {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return [['', `${JSON.stringify(x) ?? String(x)} is not an object`]];
  const o = x as Record<string, unknown>;
  const out: [string, string][] = [];
  if (o.variant === undefined && requireVariant) out.push(['variant', `missing (one of ${VARIANTS.join(', ')})`]);
  const variant = (o.variant ?? 'tokens') as Variant;
  if (!VARIANTS.includes(variant)) return [['variant', `${JSON.stringify(o.variant)} is not one of ${VARIANTS.join(', ')}`]];
  const keys: readonly string[] = SETTING_KEYS[variant];
  const fields = [...(requireVariant ? ['variant'] : []), ...keys, ...allowed];
  for (const key of Object.keys(o)) {
    if (key === 'variant' && !requireVariant) continue;
    if (!fields.includes(key)) out.push([key, `unknown field for variant ${variant} (expected one of ${fields.join(', ')})`]);
  }
  for (const key of keys) {
    if (o[key] === undefined) {
      out.push([key, 'missing']);
      continue;
    }
    const problem = variant === 'tokens' ? paramProblem(key as (typeof PARAM_KEYS)[number], o[key]) : blocksParamProblem(key as (typeof BLOCKS_PARAM_NAMES)[number], o[key]);
    if (problem) out.push([key, problem]);
  }
  return out;
}

/** Throws a RangeError naming the first bad field ("SampleAttention blocks setting blockSize: 0 is
 * not an integer in [1, 65536]."). */
export function validateSetting(s: SettingLike): HeadSetting {
  const problems = settingProblems(s, [], false);
  if (problems.length) {
    const variant = (s as { variant?: string }).variant ?? 'tokens';
    const [field, why] = problems[0];
    throw new RangeError(`SampleAttention ${variant} setting ${field}: ${why}.`);
  }
  return asHeadSetting(s);
}

/** "tokens 0.9/0.05/0.08" (alpha/rowRatio/windowRatio) or "blocks 64/0.9/0.95/0.05"
 * (blockSize/alphaColumn/alphaSlash/rowRatio): one table cell. */
export function settingText(s: HeadSetting): string {
  return `${s.variant} ${SETTING_KEYS[s.variant].map((k) => (s as unknown as Record<string, number>)[k]).join('/')}`;
}

/** The same with names: "blocks blockSize 64, alphaColumn 0.9, ...". */
export function settingLongText(s: HeadSetting): string {
  return `${s.variant}: ${SETTING_KEYS[s.variant].map((k) => `${k} ${(s as unknown as Record<string, number>)[k]}`).join(', ')}`;
}

/** The measures every variant's selection gives (docs/SAMPLEATTENTION.md, "Measures"). */
export interface CommonMeasures {
  recallMean: number;
  recallMin: number;
  recallP5: number;
  density: number;
  /** Only when v was given. */
  outputError?: number;
}

export type TokensHeadResult = { variant: 'tokens' } & HeadSelection;
export type BlocksHeadResult = { variant: 'blocks' } & BlocksHeadSelection;
/** One head's selection and measures, tagged by its variant. */
export type HeadResult = TokensHeadResult | BlocksHeadResult;

/** The tokens selections of a result list; throws naming the first head of another variant
 * (callers that can show only `tokens` heads, e.g. today's studio views). */
export function tokensResults(heads: readonly HeadResult[], what: string): HeadSelection[] {
  return heads.map((h) => {
    if (h.variant !== 'tokens') throw new RangeError(`${what}: head ${h.head} uses the ${h.variant} variant, which ${what} cannot show yet.`);
    const { variant: _, ...sel } = h;
    return sel;
  });
}
