// Parameters and recompute: a slider move sets the defaults or the chosen head's override, then
// every layer's selection runs again (the chosen head's layer first, timed), and after it the
// background measures of the chosen head (latency, the alpha sweep), for either variant.
import { yieldToUi } from '../util/yield-to-ui';
import { detailSide } from './detail-side';
import { layerParams, paramsFor } from './selectors';
import { currentEngine, jobRunning, reportFailure } from './session';
import { headKey, useStudio, type StudioState, type SweepPoint } from './store';
import { DEFAULT_SETTINGS, settingText, type BlocksSetting, type HeadSetting, type Variant } from '../sampleattention/spec/setting';
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
    let othersDone = 0;
    const others = L - 1;
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
        set({ timing: { layerMs, modelMs: null, heads, othersDone, others } });
      } else {
        othersDone++;
        if (othersDone < others) set({ timing: { layerMs, modelMs: null, heads, othersDone, others } });
      }
      if (dirty) {
        complete = false;
        break;
      }
      await yieldToUi();
    }
    if (complete) set({ timing: { layerMs, modelMs: performance.now() - t0, heads, othersDone, others } });
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

/** The chosen head's setting at sweep value `a`. A blocks head moves alphaColumn and alphaSlash
 * together (both = a), the head's block size and rowRatio fixed: one knob gives a curve (a sweep
 * over each would be a 10 x 10 surface, a hundred GPU runs per slider move), and it is the knob of
 * the rivals' 'sampleattention-blocks' curve, so the two plots read alike. A head whose alphas
 * differ is drawn at its own point beside that curve. */
export function sweepSetting(p: HeadSetting, a: number): HeadSetting {
  return p.variant === 'tokens' ? { ...p, alpha: a } : { ...p, alphaColumn: a, alphaSlash: a };
}

/** What the sweep of `p` depends on besides alpha: the variant and its fixed fields. */
const sweepKeyOf = (layer: number, head: number, p: HeadSetting, S: number | undefined) =>
  `${layer}:${head}:${p.variant === 'tokens' ? `tokens:${p.rowRatio}:${p.windowRatio}` : `blocks:${p.blockSize}:${p.rowRatio}`}:${S}`;

async function tail(gen: number): Promise<void> {
  const e = currentEngine();
  const s = get();
  const c = s.chosen;
  if (!e || !c || !s.model || jobRunning() || recomputing) return;
  const sel = s.layers[c.layer]?.heads[c.head];
  if (!sel) return;
  const p = paramsFor(s, c.layer, c.head);
  // A selection of the other variant is a stale one; the recompute under way schedules this again.
  if (p.variant !== sel.variant) return;
  const key = `${c.layer}:${c.head}:${settingText(p)}:${s.prefill?.S}`;
  try {
    if (get().latency?.key !== key) {
      // tokens: the sparse pass over the head's kept keys and window; blocks: its stages and its
      // block-sparse pass (timeBlocksKernels, as `sa-studio bench --variant blocks`); both beside dense.
      const lat = p.variant === 'tokens' && sel.variant === 'tokens'
        ? await e.latency(c.layer, c.head, sel.selectedKeys, sel.window)
        : await e.blocksLatency(c.layer, c.head, p as BlocksSetting);
      if (gen !== tailGen) return;
      set({ latency: { ...lat, key } });
    }
    const sweepKey = sweepKeyOf(c.layer, c.head, p, s.prefill?.S);
    if (get().sweep?.key !== sweepKey) {
      const points: SweepPoint[] = [];
      for (const alpha of SWEEP_ALPHAS) {
        const r = await e.measureHead(c.layer, c.head, sweepSetting(p, alpha));
        if (gen !== tailGen) return;
        points.push({ alpha, recallMean: r.recallMean, density: r.density });
        await yieldToUi();
      }
      set({ sweep: { key: sweepKey, variant: p.variant, ...(p.variant === 'blocks' ? { blockSize: p.blockSize } : {}), points } });
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
