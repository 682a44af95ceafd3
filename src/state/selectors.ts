// Values derived from the store: computed where they are read, never stored.
import type { HeadResult, HeadSetting } from '../sampleattention/spec/setting';
import { applyOverride, overrideFor } from './settings';
import { headKey, type StudioState } from './store';

type S = Pick<StudioState, 'defaults' | 'overrides'>;

/** The setting head (layer, head) runs with: the defaults, then its override (settings.ts). */
export function paramsFor(s: S, layer: number, head: number): HeadSetting {
  return applyOverride(s.defaults, s.overrides[headKey(layer, head)]);
}

export function layerParams(s: S, layer: number, heads: number): HeadSetting[] {
  return Array.from({ length: heads }, (_, h) => paramsFor(s, layer, h));
}

export function allParams(s: S, layers: number, heads: number): HeadSetting[][] {
  return Array.from({ length: layers }, (_, l) => layerParams(s, l, heads));
}

export function hasOverride(s: Pick<StudioState, 'overrides'>, layer: number, head: number): boolean {
  const o = s.overrides[headKey(layer, head)];
  return !!o && Object.keys(o).length > 0;
}

export function chosenSelection(s: Pick<StudioState, 'chosen' | 'layers'>): HeadResult | null {
  if (!s.chosen) return null;
  return s.layers[s.chosen.layer]?.heads[s.chosen.head] ?? null;
}

export interface Summary {
  recallMean: number;
  recallMin: number;
  recallP5: number;
  density: number;
  /** Mean stage-1 estimate of the tokens heads; null when there are none. */
  stage1Estimate: number | null;
  /** Mean stage-1 column and slash estimates of the blocks heads; null when there are none. */
  stage1ColumnEstimate: number | null;
  stage1SlashEstimate: number | null;
  outputError: number | null;
  heads: number;
}

/** Means over heads (recall min is the minimum); null when nothing is computed yet. Each
 * variant's stage-1 estimates are means over that variant's heads. */
export function summarise(heads: readonly HeadResult[]): Summary | null {
  if (heads.length === 0) return null;
  const meanOf = <H>(hs: readonly H[], f: (h: H) => number) => (hs.length ? hs.reduce((a, h) => a + f(h), 0) / hs.length : null);
  const mean = (f: (h: HeadResult) => number) => meanOf(heads, f)!;
  const tokens = heads.flatMap((h) => (h.variant === 'tokens' ? [h] : []));
  const blocks = heads.flatMap((h) => (h.variant === 'blocks' ? [h] : []));
  const errs = heads.filter((h) => h.outputError !== undefined);
  return {
    recallMean: mean((h) => h.recallMean),
    recallMin: Math.min(...heads.map((h) => h.recallMin)),
    recallP5: mean((h) => h.recallP5),
    density: mean((h) => h.density),
    stage1Estimate: meanOf(tokens, (h) => h.stage1Estimate),
    stage1ColumnEstimate: meanOf(blocks, (h) => h.stage1ColumnEstimate),
    stage1SlashEstimate: meanOf(blocks, (h) => h.stage1SlashEstimate),
    outputError: meanOf(errs, (h) => h.outputError ?? 0),
    heads: heads.length,
  };
}

export function modelSummary(s: Pick<StudioState, 'layers'>): Summary | null {
  const all = s.layers.flatMap((l) => l?.heads ?? []);
  return summarise(all);
}

export function layerSummaries(s: Pick<StudioState, 'layers'>): (Summary | null)[] {
  return s.layers.map((l) => (l ? summarise(l.heads) : null));
}

export function ready(s: Pick<StudioState, 'layers' | 'prefill'>): boolean {
  return !!s.prefill && s.layers.length > 0 && s.layers.every((l) => l !== null);
}

/** A fingerprint of every head's parameters: results computed under other parameters are stale. */
export function paramsKey(s: Pick<StudioState, 'defaults' | 'overrides'>): string {
  const o = Object.keys(s.overrides).sort().map((k) => [k, s.overrides[k]]);
  return JSON.stringify([s.defaults, o]);
}

/** The per-head overrides that make head (l, h) run params[l][h] on top of `defaults`: only the
 * differences, so heads that match the defaults stay plain (an imported or auto-tuned config). */
export function overridesFrom(params: readonly (readonly HeadSetting[])[], defaults: HeadSetting): StudioState['overrides'] {
  const out: StudioState['overrides'] = {};
  params.forEach((layer, l) => layer.forEach((p, h) => {
    const o = overrideFor(p, defaults);
    if (Object.keys(o).length) out[headKey(l, h)] = o;
  }));
  return out;
}
