// The float64 reference of a layer whose heads may use either variant: each head's selection by
// its own setting (reference.ts selectHead for `tokens`, blocks/reference.ts selectHeadBlocks for
// `blocks`), tagged by variant. What the GPU run of a mixed layer is tested against.
import type { Matrix } from './attention';
import { eachHead, selectHead } from './reference';
import { selectHeadBlocks } from './blocks/reference';
import { asHeadSetting, settingParams, validateSetting, type HeadResult, type SettingLike } from './setting';

/** One head by its setting. q, k (and v) are (S, d) row-major. */
export function selectHeadSetting(q: Matrix, k: Matrix, S: number, d: number, setting: SettingLike, opts: { head?: number; v?: Matrix; scale?: number } = {}): HeadResult {
  const s = validateSetting(setting);
  return s.variant === 'blocks'
    ? { variant: 'blocks', ...selectHeadBlocks(q, k, S, d, settingParams(s), opts) }
    : { variant: 'tokens', ...selectHead(q, k, S, d, settingParams(s), opts) };
}

/** Every query head of a layer (grouped-query attention as reference.ts selectAll), one setting
 * for all heads or one per head, of any mix of variants. */
export function selectAllSettings(q: Matrix, k: Matrix, heads: number, kvHeads: number, S: number, d: number, settings: SettingLike | readonly SettingLike[], opts: { v?: Matrix; scale?: number; onHead?: (sel: HeadResult, heads: number) => void } = {}): HeadResult[] {
  const list = Array.isArray(settings) ? (settings as readonly SettingLike[]).map(asHeadSetting) : asHeadSetting(settings as SettingLike);
  return eachHead(q, k, heads, kvHeads, S, d, list, opts, selectHeadSetting);
}
