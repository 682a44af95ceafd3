// What survives a reload: the model, the text, the token limit, the parameters and the chosen
// head, in localStorage. URL parameters (?model=NAME&maxTokens=N&fresh) win over the saved state.
import type { SampleParams } from '../sampleattention/spec/params';
import { PARAM_KEYS, paramProblem } from '../sampleattention/spec/params';
import type { StudioState, TextChoice } from './store';

const KEY = 'sa-studio:v1';
/** Texts larger than this are not saved (localStorage holds a few MB per origin). */
const MAX_SAVED_TEXT = 500_000;

export interface Saved {
  model?: string;
  text?: TextChoice;
  maxTokens?: number;
  defaults?: SampleParams;
  overrides?: Record<string, Partial<SampleParams>>;
  chosen?: { layer: number; head: number } | null;
}

const validParams = (p: unknown): p is SampleParams =>
  !!p && typeof p === 'object' && PARAM_KEYS.every((k) => paramProblem(k, (p as Record<string, unknown>)[k]) === null);

export function loadSaved(): Saved {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return {};
    const x = JSON.parse(raw) as Saved;
    const out: Saved = {};
    if (typeof x.model === 'string') out.model = x.model;
    if (x.text && typeof x.text.name === 'string' && ['sample', 'pasted', 'file', 'passkey'].includes(x.text.kind)) out.text = x.text;
    if (Number.isInteger(x.maxTokens) && (x.maxTokens as number) > 0) out.maxTokens = x.maxTokens;
    if (validParams(x.defaults)) out.defaults = x.defaults;
    if (x.overrides && typeof x.overrides === 'object') {
      out.overrides = {};
      for (const [k, v] of Object.entries(x.overrides)) {
        const clean: Partial<SampleParams> = {};
        for (const name of PARAM_KEYS) {
          if (v && paramProblem(name, v[name]) === null) clean[name] = v[name];
        }
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
