// Parameters and recompute: a slider move sets the defaults or the chosen head's override, then
// every layer's selection runs again (the chosen head's layer first, timed), and after it the
// background measures of the chosen head (latency, the alpha sweep).
import { yieldToUi } from '../util/yield-to-ui';
import { detailSide } from './detail-side';
import { layerParams, paramsFor } from './selectors';
import { currentEngine, jobRunning, reportFailure } from './session';
import { headKey, useStudio, type StudioState, type SweepPoint } from './store';
import { DEFAULT_SETTINGS, settingText, type Variant } from '../sampleattention/spec/setting';
import { applyOverride, overrideFor, settingFieldProblem, variantDefaults, type SettingName } from './settings';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

export type ParamName = SettingName;

/** Sets a parameter for every head (scope 'all') or as the chosen head's override. A field of
 * the other variant than the one it applies to is ignored (the sliders show the variant's own). */
export function setParam(scope: 'all' | 'head', name: ParamName, value: number): void {
  if (settingFieldProblem(name, value) !== null) return;
  const s = get();
  if (scope === 'all') set({ defaults: applyOverride(s.defaults, { [name]: value }) });
  else if (s.chosen) {
    const k = headKey(s.chosen.layer, s.chosen.head);
    set({ overrides: { ...s.overrides, [k]: { ...s.overrides[k], [name]: value } } });
  }
  scheduleRecompute();
}

/** Switches every head (scope 'all') or the chosen head to `variant`, at that variant's spec
 * defaults (a block size the text holds). Heads with an override keep what they ran: their
 * override is rewritten on top of the new defaults. A head switched to the defaults' variant
 * loses its override. */
export function setVariant(scope: 'all' | 'head', variant: Variant): void {
  const s = get();
  const S = s.prefill?.S ?? Infinity;
  if (scope === 'all') {
    if (variant === s.defaults.variant) return;
    const defaults = variantDefaults(variant, S);
    const overrides: typeof s.overrides = {};
    for (const [k, o] of Object.entries(s.overrides)) {
      const kept = overrideFor(applyOverride(s.defaults, o), defaults);
      if (Object.keys(kept).length) overrides[k] = kept;
    }
    set({ defaults, overrides });
  } else if (s.chosen) {
    const k = headKey(s.chosen.layer, s.chosen.head);
    const o = overrideFor(variant === s.defaults.variant ? s.defaults : variantDefaults(variant, S), s.defaults);
    const overrides = { ...s.overrides };
    if (Object.keys(o).length) overrides[k] = o;
    else delete overrides[k];
    set({ overrides });
  }
  scheduleRecompute();
}

export function resetOverride(): void {
  const s = get();
  if (!s.chosen) return;
  const overrides = { ...s.overrides };
  delete overrides[headKey(s.chosen.layer, s.chosen.head)];
  set({ overrides });
  scheduleRecompute();
}

export function resetAll(): void {
  set({ overrides: {}, defaults: { ...DEFAULT_SETTINGS.tokens } });
  scheduleRecompute();
}

let dirty = false;
let recomputing: Promise<void> | null = null;

/** Recomputes selection and measures after a parameter change: the chosen head's layer first
 * (timed from the change to its redraw), then the other layers; a newer change restarts it. */
export function scheduleRecompute(): Promise<void> {
  dirty = true;
  if (!recomputing) {
    recomputing = recomputeLoop().catch((e) => reportFailure('Recomputing', e)).finally(() => {
      recomputing = null;
    });
  }
  return recomputing;
}

async function recomputeLoop(): Promise<void> {
  while (dirty) {
    dirty = false;
    const e = currentEngine();
    const s = get();
    if (!e || !s.model || !s.prefill || jobRunning()) return;
    const L = e.layers;
    const heads = s.model.config.numHeads;
    const first = s.chosen?.layer ?? 0;
    const order = [first, ...Array.from({ length: L }, (_, l) => l).filter((l) => l !== first)];
    const t0 = performance.now();
    let layerMs = 0;
    let complete = true;
    for (const l of order) {
      const result = await e.selectLayer(l, layerParams(get(), l, heads));
      const layers = [...get().layers];
      layers[l] = result;
      set({ layers });
      if (l === first) {
        if (get().chosen) {
          const c = get().chosen!;
          const detail = await e.headDetail(c.layer, c.head, detailSide());
          set({ detail });
        }
        await nextFrame();
        layerMs = performance.now() - t0;
        set({ timing: { layerMs, modelMs: null, heads } });
      }
      if (dirty) {
        complete = false;
        break;
      }
      await yieldToUi();
    }
    if (complete) set({ timing: { layerMs, modelMs: performance.now() - t0, heads } });
  }
  scheduleTail();
}

const nextFrame = () => new Promise<void>((r) => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => r()) : setTimeout(r, 0)));

// ---- latency and the alpha sweep: background work after the view is up to date ----

let tailGen = 0;
export function scheduleTail(): void {
  const gen = ++tailGen;
  setTimeout(() => void tail(gen), 0);
}

const SWEEP_ALPHAS = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1];

async function tail(gen: number): Promise<void> {
  const e = currentEngine();
  const s = get();
  const c = s.chosen;
  if (!e || !c || !s.model || jobRunning() || recomputing) return;
  const sel = s.layers[c.layer]?.heads[c.head];
  if (!sel) return;
  const p = paramsFor(s, c.layer, c.head);
  const key = `${c.layer}:${c.head}:${settingText(p)}:${s.prefill?.S}`;
  if (p.variant !== 'tokens' || sel.variant !== 'tokens') {
    // The engine's latency path times the tokens sparse kernel (keys + window), and the sweep
    // moves tokens' alpha: neither exists for a blocks head yet.
    set({ latency: { denseMs: NaN, sparseMs: NaN, repeats: 0, adapter: '', note: 'latency: tokens heads only (the blocks kernel is not timed here yet)', key }, sweep: null });
    return;
  }
  try {
    if (get().latency?.key !== key) {
      const lat = await e.latency(c.layer, c.head, sel.selectedKeys, sel.window);
      if (gen !== tailGen) return;
      set({ latency: { ...lat, key } });
    }
    const sweepKey = `${c.layer}:${c.head}:tokens:${p.rowRatio}:${p.windowRatio}:${s.prefill?.S}`;
    if (get().sweep?.key !== sweepKey) {
      const points: SweepPoint[] = [];
      for (const alpha of SWEEP_ALPHAS) {
        const r = await e.measureHead(c.layer, c.head, { ...p, alpha });
        if (gen !== tailGen) return;
        points.push({ alpha, recallMean: r.recallMean, density: r.density });
        await yieldToUi();
      }
      set({ sweep: { key: sweepKey, points } });
    }
  } catch (err) {
    console.warn('background measures failed', err);
  }
}

/** Resolves when no recompute is pending, so exported measures belong to the parameters shown. */
export async function settled(): Promise<void> {
  while (recomputing) await recomputing;
}


/** Whether a load, prefill or parameter recompute is in flight (checks wait for a still studio). */
export function studioBusy(): boolean {
  return jobRunning() || !!recomputing;
}
