// The studio's per-head settings: the defaults are one HeadSetting (either variant, docs/
// SAMPLEATTENTION.md), a head's override is a partial one. An override may name another variant
// than the defaults; its fields then stand on that variant's spec defaults (the defaults' fields
// belong to the other variant). The one home of that rule: selectors, persist and config import
// use it.
import { PARAM_KEYS, paramProblem, type SampleParams } from '../sampleattention/spec/params';
import { BLOCKS_PARAM_NAMES, blocksParamProblem, type BlocksParams } from '../sampleattention/spec/blocks/params';
import { asHeadSetting, DEFAULT_SETTINGS, SETTING_KEYS, VARIANTS, type HeadSetting, type Variant } from '../sampleattention/spec/setting';

/** A head's override: any fields of either variant, and optionally the variant itself. */
export type Override = Partial<{ variant: Variant } & SampleParams & BlocksParams>;

/** Every parameter name of either variant (rowRatio is in both). */
export type SettingName = keyof SampleParams | keyof BlocksParams;

/** The setting a head runs: `defaults`, then its override (see the file's comment). */
export function applyOverride(defaults: HeadSetting, o: Override | undefined): HeadSetting {
  const variant = o?.variant ?? defaults.variant;
  const base: Record<string, number> = { ...(variant === defaults.variant ? defaults : DEFAULT_SETTINGS[variant]) } as never;
  for (const k of SETTING_KEYS[variant]) {
    const v = (o as Record<string, number> | undefined)?.[k];
    if (v !== undefined) base[k] = v;
  }
  return asHeadSetting({ ...base, variant } as HeadSetting);
}

/** The override that makes a head run `s` on top of `defaults`: the differing fields only when
 * the variant is the defaults', else the variant and all its fields (so the config's own
 * defaults of that variant survive, not the spec's). Empty when `s` is the defaults. */
export function overrideFor(s: HeadSetting, defaults: HeadSetting): Override {
  const o: Record<string, unknown> = {};
  if (s.variant !== defaults.variant) o.variant = s.variant;
  for (const k of SETTING_KEYS[s.variant]) {
    const v = (s as unknown as Record<string, number>)[k];
    if (s.variant !== defaults.variant || v !== (defaults as unknown as Record<string, number>)[k]) o[k] = v;
  }
  return o as Override;
}

/** The problem of one field's value, or null (the field's own variant's range). */
export function settingFieldProblem(name: SettingName, value: unknown): string | null {
  return (PARAM_KEYS as readonly string[]).includes(name) ? paramProblem(name as keyof SampleParams, value) : blocksParamProblem(name as keyof BlocksParams, value);
}

/** The valid fields of an untrusted override (saved state); unknown or bad ones are dropped. */
export function cleanOverride(x: unknown): Override {
  const out: Record<string, unknown> = {};
  if (!x || typeof x !== 'object') return out;
  const o = x as Record<string, unknown>;
  if (VARIANTS.includes(o.variant as Variant)) out.variant = o.variant;
  for (const name of new Set<SettingName>([...PARAM_KEYS, ...BLOCKS_PARAM_NAMES])) if (settingFieldProblem(name, o[name]) === null) out[name] = o[name];
  return out as Override;
}

/** The largest block size of the studio's choices (16, 32, 64, 128) that is <= S (16 below that). */
export const BLOCK_SIZES = [16, 32, 64, 128] as const;
export function blockSizeFor(S: number, wanted: number): number {
  const fit = BLOCK_SIZES.filter((b) => b <= Math.max(S, BLOCK_SIZES[0]));
  return fit.includes(wanted as never) ? wanted : fit[fit.length - 1];
}

/** The spec's defaults of `variant`, with a block size the text can hold. */
export function variantDefaults(variant: Variant, S: number): HeadSetting {
  return variant === 'blocks' ? { ...DEFAULT_SETTINGS.blocks, blockSize: blockSizeFor(S, DEFAULT_SETTINGS.blocks.blockSize) } : { ...DEFAULT_SETTINGS.tokens };
}

