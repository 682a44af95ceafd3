// What survives a reload: the model, the text, the token limit, the parameters and the chosen
// head, in localStorage. URL parameters (?model=NAME&maxTokens=N&fresh) win over the saved state.
// The parameters are HeadSettings (either variant); a state saved before the variants held plain
// SampleParams, which still load as tokens settings (the key stays, so nothing saved is lost).
import { settingProblems, asHeadSetting, type HeadSetting } from '../sampleattention/spec/setting';
import { cleanOverride, type Override } from './settings';
import type { StudioState, TextChoice } from './store';

const KEY = 'sa-studio:v1';
/** Texts larger than this are not saved (localStorage holds a few MB per origin). */
const MAX_SAVED_TEXT = 500_000;

export interface Saved {
  model?: string;
  text?: TextChoice;
  maxTokens?: number;
  /** Read back as a HeadSetting; plain SampleParams in states saved before the variants. */
  defaults?: HeadSetting;
  overrides?: Record<string, Override>;
  chosen?: { layer: number; head: number } | null;
}

/** A valid setting (without `variant`: tokens, as saved before the variants), or null. */
function savedSetting(p: unknown): HeadSetting | null {
  if (!p || typeof p !== 'object') return null;
  // Only the variant's fields are kept: a saved state may carry fields we no longer know.
  const s = asHeadSettingOrNull(p);
  return s && settingProblems(s, [], false).length === 0 ? s : null;
}

function asHeadSettingOrNull(p: object): HeadSetting | null {
  try {
    return asHeadSetting(p as HeadSetting);
  } catch {
    return null;
  }
}

export function loadSaved(): Saved {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return {};
    const x = JSON.parse(raw) as Saved;
    const out: Saved = {};
    if (typeof x.model === 'string') out.model = x.model;
    if (x.text && typeof x.text.name === 'string' && ['sample', 'pasted', 'file', 'passkey'].includes(x.text.kind)) out.text = x.text;
    if (Number.isInteger(x.maxTokens) && (x.maxTokens as number) > 0) out.maxTokens = x.maxTokens;
    const defaults = savedSetting(x.defaults);
    if (defaults) out.defaults = defaults;
    if (x.overrides && typeof x.overrides === 'object') {
      out.overrides = {};
      for (const [k, v] of Object.entries(x.overrides)) {
        const clean = cleanOverride(v);
        if (/^\d+:\d+$/.test(k) && Object.keys(clean).length) out.overrides[k] = clean;
      }
    }
    if (x.chosen && Number.isInteger(x.chosen.layer) && Number.isInteger(x.chosen.head)) out.chosen = x.chosen;
    return out;
  } catch {
    return {};
  }
}

export function save(s: StudioState): void {
  const text = s.text.body && s.text.body.length > MAX_SAVED_TEXT ? { kind: s.text.kind, name: s.text.name } : s.text;
  const saved: Saved = {
    model: s.modelSource.kind === 'served' ? s.modelSource.name : undefined,
    text,
    maxTokens: s.maxTokens,
    defaults: s.defaults,
    overrides: s.overrides,
    chosen: s.chosen,
  };
  try {
    localStorage.setItem(KEY, JSON.stringify(saved));
  } catch {
    // Storage full or disabled: the studio still works, it only forgets on reload.
  }
}

export function clearSaved(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    /* nothing saved */
  }
}
