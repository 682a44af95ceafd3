// Values derived from the store: computed where they are read, never stored.
import type { HeadSelection } from '../sampleattention/spec/selection';
import { PARAM_KEYS, type SampleParams } from '../sampleattention/spec/params';
import { headKey, type StudioState } from './store';

type S = Pick<StudioState, 'defaults' | 'overrides'>;

/** The parameters head (layer, head) runs with: the defaults, then its override. */
export function paramsFor(s: S, layer: number, head: number): SampleParams {
  return { ...s.defaults, ...s.overrides[headKey(layer, head)] };
}

export function layerParams(s: S, layer: number, heads: number): SampleParams[] {
  return Array.from({ length: heads }, (_, h) => paramsFor(s, layer, h));
}

export function allParams(s: S, layers: number, heads: number): SampleParams[][] {
  return Array.from({ length: layers }, (_, l) => layerParams(s, l, heads));
}

export function hasOverride(s: Pick<StudioState, 'overrides'>, layer: number, head: number): boolean {
  const o = s.overrides[headKey(layer, head)];
  return !!o && Object.keys(o).length > 0;
}

export function chosenSelection(s: Pick<StudioState, 'chosen' | 'layers'>): HeadSelection | null {
  if (!s.chosen) return null;
  return s.layers[s.chosen.layer]?.heads[s.chosen.head] ?? null;
}

export interface Summary {
  recallMean: number;
  recallMin: number;
  recallP5: number;
  density: number;
  stage1Estimate: number;
  outputError: number | null;
  heads: number;
}

/** Means over heads (recall min is the minimum); null when nothing is computed yet. */
export function summarise(heads: readonly HeadSelection[]): Summary | null {
  if (heads.length === 0) return null;
  const mean = (f: (h: HeadSelection) => number) => heads.reduce((a, h) => a + f(h), 0) / heads.length;
  const errs = heads.filter((h) => h.outputError !== undefined);
  return {
    recallMean: mean((h) => h.recallMean),
    recallMin: Math.min(...heads.map((h) => h.recallMin)),
    recallP5: mean((h) => h.recallP5),
    density: mean((h) => h.density),
    stage1Estimate: mean((h) => h.stage1Estimate),
    outputError: errs.length ? errs.reduce((a, h) => a + (h.outputError ?? 0), 0) / errs.length : null,
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
export function overridesFrom(params: readonly (readonly SampleParams[])[], defaults: SampleParams): StudioState['overrides'] {
  const out: StudioState['overrides'] = {};
  params.forEach((layer, l) => layer.forEach((p, h) => {
    const o: Partial<SampleParams> = {};
    for (const name of PARAM_KEYS) if (p[name] !== defaults[name]) o[name] = p[name];
    if (Object.keys(o).length) out[headKey(l, h)] = o;
  }));
  return out;
}
