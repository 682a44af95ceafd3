// Everything the UI can ask for. Actions drive the engine (the only code that talks to the GPU)
// and write its plain-data results into the store; components only read the store and call these.
import { CancelledError } from '../engine/cancel';
import { GpuUnavailableError, openEngine, type Engine } from '../engine/engine-client';
import { yieldToUi } from '../util/yield-to-ui';
import { pickedSource, type CheckpointSource } from '../engine/source';
import { urlFolder } from '../engine/url-files';
import { buildConfig, parseConfig, serializeConfig, type SampleConfig } from '../sampleattention/formats/config-file';
import { DEFAULT_PARAMS, paramProblem, type SampleParams } from '../sampleattention/spec/params';
import { allParams, layerParams, overridesFrom, paramsFor } from './selectors';
import { clearSaved, loadSaved, save } from './persist';
import { headKey, useStudio, type StudioState, type SweepPoint, type TextChoice } from './store';
import { textUrl } from './texts';
import { makePasskeyText } from '../texts/passkey';
import type { HeadPlanes, MapViewport } from '../engine/types';
import { NO_CHECKS, cancelTask } from './check-actions';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

let engine: Engine | null = null;
let started = false;
let job: AbortController | null = null;
const FALLBACK_MODEL = 'fixture-llama3';
// Grid side of the chosen head's whole-map planes: texts up to this many tokens are drawn one cell
// per token; longer ones block-pooled until the head view zooms in and asks for its viewport
// (headViewport). The URL parameter ?detailSide=N (N >= 8) lowers it, so tests see a pooled map
// at a short, fast S.
const DETAIL_SIDE = 512;
function detailSide(): number {
  const n = Number(typeof location !== 'undefined' ? new URLSearchParams(location.search).get('detailSide') ?? NaN : NaN);
  return Number.isInteger(n) && n >= 8 ? Math.min(n, DETAIL_SIDE) : DETAIL_SIDE;
}

function base(): string {
  const b = import.meta.env.BASE_URL ?? '/';
  return b.endsWith('/') ? b : b + '/';
}

/** Opens the studio: WebGPU, the saved or asked-for model and text, prefill, selection. */
export async function startStudio(): Promise<void> {
  if (started) return; // React StrictMode runs effects twice in development.
  started = true;
  const url = new URLSearchParams(location.search);
  if (url.has('fresh')) clearSaved();
  const saved = loadSaved();
  const maxTokens = Number(url.get('maxTokens') ?? saved.maxTokens ?? get().maxTokens);
  set({
    modelSource: { kind: 'served', name: url.get('model') ?? saved.model ?? 'default' },
    text: saved.text ?? get().text,
    maxTokens: Number.isInteger(maxTokens) && maxTokens > 0 ? maxTokens : get().maxTokens,
    defaults: saved.defaults ?? get().defaults,
    overrides: saved.overrides ?? {},
    chosen: saved.chosen ?? null,
  });
  // Persist only what the user chose, after it has been applied.
  useStudio.subscribe((s, prev) => {
    if (s.text !== prev.text || s.defaults !== prev.defaults || s.overrides !== prev.overrides || s.chosen !== prev.chosen || s.maxTokens !== prev.maxTokens || s.modelSource !== prev.modelSource) save(s);
  });
  set({ status: 'starting', message: 'Looking for WebGPU...' });
  try {
    // ?engine=main keeps the engine on the main thread (for comparison and debugging).
    engine = await openEngine({ where: url.get('engine') === 'main' ? 'main thread' : undefined });
  } catch (e) {
    if (e instanceof GpuUnavailableError) set({ status: 'no-webgpu', message: e.message });
    else set({ status: 'error', message: `Could not start WebGPU: ${(e as Error).message}` });
    return;
  }
  // A failed worker or a lost device is said in the status line, never a silent hang.
  // (Calls in flight reject with the same message, so the running job ends in 'error' too.)
  engine.onFailure((message) => set({ status: 'error', message, progress: null }));
  set({ adapter: `${engine.adapterName} · engine ${engine.where === 'worker' ? 'in a worker' : 'on the main thread'}` });
  await openServed(get().modelSource.name);
}

/** A served model's folder; urlFolder reads its manifest here so a missing default is noticed
 * before the engine is asked to load it. */
async function servedFiles(name: string): Promise<{ files: CheckpointSource; name: string; note: string }> {
  const served = async (n: string): Promise<CheckpointSource> => {
    const root = `${base()}models/${n}/`;
    await urlFolder(root, n);
    return { kind: 'url', base: root, label: n };
  };
  try {
    return { files: await served(name), name, note: '' };
  } catch (e) {
    if (name !== 'default') throw e;
    const files = await served(FALLBACK_MODEL);
    return { files, name: FALLBACK_MODEL, note: `The bundled default model (public/models/default) is not there yet; opened the small test checkpoint ${FALLBACK_MODEL} instead.` };
  }
}

export async function openServed(name: string): Promise<void> {
  await pipeline(async (signal) => {
    const found = await servedFiles(name);
    set({ modelSource: { kind: 'served', name: found.name }, modelNote: found.note });
    await loadModel(found.files, signal);
  });
}

/** A checkpoint the user picked as a folder or as files. */
export async function openPicked(list: FileList | File[]): Promise<void> {
  await pipeline(async (signal) => {
    const files = pickedSource(list);
    set({ modelSource: { kind: 'picked', name: files.label }, modelNote: '' });
    await loadModel(files, signal);
  });
}

async function loadModel(files: CheckpointSource, signal: AbortSignal): Promise<void> {
  const e = need();
  set({ status: 'loading', message: `Loading ${files.label}...`, model: null, prefill: null, layers: [], detail: null, latency: null, sweep: null });
  const model = await e.loadModel(files, (done, total) => set({ progress: { phase: 'load', done, total, unit: 'bytes' } }), signal);
  const { numLayers, numHeads } = model.config;
  const c = get().chosen;
  // Overrides and the chosen head belong to a model shape; drop what does not fit this one.
  const overrides = Object.fromEntries(Object.entries(get().overrides).filter(([k]) => {
    const [l, h] = k.split(':').map(Number);
    return l < numLayers && h < numHeads;
  }));
  set({ model, overrides, chosen: c && c.layer < numLayers && c.head < numHeads ? c : { layer: 0, head: 0 } });
  await runText(signal);
}

async function textBody(t: TextChoice): Promise<string> {
  if (t.body !== undefined) return t.body;
  if (t.kind === 'sample') {
    const res = await fetch(textUrl(base(), t.name));
    if (!res.ok) throw new Error(`The sample text ${t.name} could not be fetched (HTTP ${res.status}).`);
    return await res.text();
  }
  if (t.kind === 'passkey') return passkeyFromName(t.name).text;
  throw new Error(`The text ${t.name} is not saved any more (too large): paste it or pick the file again.`);
}

/** Passkey texts are named by their recipe, so a reload regenerates the same text. */
export const passkeyName = (tokens: number, depth: number, seed: number) => `passkey, ~${tokens} tokens, depth ${depth}, seed ${seed}`;

export function passkeyFromName(name: string) {
  const m = /^passkey, ~(\d+) tokens, depth ([\d.]+), seed (\d+)$/.exec(name);
  if (!m) throw new Error(`Not a passkey text recipe: ${name}`);
  return makePasskeyText({ tokensApprox: Number(m[1]), depth: Number(m[2]), seed: Number(m[3]) });
}

/** Tokenize, prefill, select every layer: what follows any change of model or text. */
async function runText(signal: AbortSignal): Promise<void> {
  const e = need();
  const s = get();
  set({ status: 'running', message: 'Tokenizing...', progress: null, prefill: null, layers: [], detail: null, latency: null, sweep: null, ...NO_CHECKS });
  const body = await textBody(s.text);
  const { ids, tokens } = await e.tokenize(body, s.maxTokens);
  set({ message: `Prefill of ${ids.length} tokens...`, progress: { phase: 'prefill', done: 0, total: s.model!.config.numLayers, unit: 'layers' } });
  await yieldToUi();
  const pre = await e.prefill(ids, (done, total) => set({ progress: { phase: 'prefill', done, total, unit: 'layers' } }), signal);
  set({ prefill: { ids, tokens, S: ids.length, ms: pre.ms } });
  const L = e.layers;
  const heads = s.model!.config.numHeads;
  const layers: StudioState['layers'] = Array.from({ length: L }, () => null);
  for (let l = 0; l < L; l++) {
    set({ message: `SampleAttention, layer ${l + 1} of ${L}...`, progress: { phase: 'select', done: l, total: L, unit: 'layers' } });
    layers[l] = await e.selectLayer(l, layerParams(get(), l, heads));
    set({ layers: [...layers] });
    if (signal.aborted) throw new CancelledError();
    await yieldToUi();
  }
  set({ progress: null });
  await refreshChosen(signal);
  set({ status: 'ready', message: '' });
}

/** Runs `work` as the one job in flight; a new job cancels the old (and any model-wide check). */
async function pipeline(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  if (!engine) return;
  job?.abort();
  cancelTask();
  const ctl = new AbortController();
  job = ctl;
  set({ busy: true, configMessage: null });
  try {
    await work(ctl.signal);
  } catch (e) {
    if (ctl.signal.aborted || e instanceof CancelledError) {
      if (job === ctl) set({ status: 'cancelled', message: 'Cancelled. Pick a model or text to start again.', progress: null });
    } else {
      console.warn(e);
      set({ status: 'error', message: (e as Error).message, progress: null });
    }
  } finally {
    if (job === ctl) {
      job = null;
      set({ busy: false });
    }
  }
}

export function cancel(): void {
  job?.abort();
}

/** The engine, for the model-wide checks (check-actions.ts); null before WebGPU is up. */
export function currentEngine() {
  return engine;
}

/** Whether a load, prefill or parameter recompute is in flight (checks wait for a still studio). */
export function studioBusy(): boolean {
  return !!job || !!recomputing;
}

function need(): Engine {
  if (!engine) throw new Error('WebGPU is not ready.');
  return engine;
}

// ---- text ----

export async function chooseText(text: TextChoice): Promise<void> {
  set({ text });
  if (!get().model) return;
  await pipeline((signal) => runText(signal));
}

export async function setMaxTokens(n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 1) return;
  set({ maxTokens: n });
  if (!get().model) return;
  await pipeline((signal) => runText(signal));
}

// ---- head choice and overlays ----

export async function chooseHead(layer: number, head: number): Promise<void> {
  set({ chosen: { layer, head }, detail: null, latency: null });
  try {
    await refreshChosen();
  } catch (e) {
    report('Drawing the head', e);
  }
}

/** A failure of interactive GPU work: shown in the status line; the studio stays usable. */
function report(what: string, e: unknown): void {
  console.warn(e);
  set({ message: `${what} failed: ${(e as Error).message}` });
}

export function setOverlay(n: number): void {
  set({ overlay: Math.max(0, Math.min(n, 6)) });
}

let detailGen = 0;
/** Re-reads the chosen head's maps, scores and recall from its layer's current run. */
async function refreshChosen(signal?: AbortSignal): Promise<void> {
  const c = get().chosen;
  if (!engine || !c || !get().layers[c.layer]) return;
  const gen = ++detailGen;
  const detail = await engine.headDetail(c.layer, c.head, detailSide());
  if (gen !== detailGen || signal?.aborted) return;
  set({ detail });
  scheduleTail();
}

/** The chosen head's planes over a viewport (query rows [r0, r1), keys [c0, c1)) pooled into about
 * `side` x `side` cells (one per token when the viewport is small enough): what the head view
 * draws over the whole map when zoomed in. Null while a model or text job is running, when the
 * head is not the chosen one any more, or on failure (the whole-map planes stay drawn). */
export async function headViewport(layer: number, head: number, side: number, viewport: MapViewport): Promise<HeadPlanes | null> {
  const c = get().chosen;
  if (!engine || job || !c || c.layer !== layer || c.head !== head || !get().layers[layer]) return null;
  try {
    const d = await engine.headPlanes(layer, head, side, viewport);
    const now = get().chosen;
    return now && now.layer === layer && now.head === head ? d : null;
  } catch (e) {
    console.warn('head viewport failed', e);
    return null;
  }
}

// ---- parameters ----

export type ParamName = keyof SampleParams;

/** Sets a parameter for every head (scope 'all') or as the chosen head's override. */
export function setParam(scope: 'all' | 'head', name: ParamName, value: number): void {
  if (paramProblem(name, value) !== null) return;
  const s = get();
  if (scope === 'all') set({ defaults: { ...s.defaults, [name]: value } });
  else if (s.chosen) {
    const k = headKey(s.chosen.layer, s.chosen.head);
    set({ overrides: { ...s.overrides, [k]: { ...s.overrides[k], [name]: value } } });
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
  set({ overrides: {}, defaults: { ...DEFAULT_PARAMS } });
  scheduleRecompute();
}

let dirty = false;
let recomputing: Promise<void> | null = null;

/** Recomputes selection and measures after a parameter change: the chosen head's layer first
 * (timed from the change to its redraw), then the other layers; a newer change restarts it. */
export function scheduleRecompute(): Promise<void> {
  dirty = true;
  if (!recomputing) {
    recomputing = recomputeLoop().catch((e) => report('Recomputing', e)).finally(() => {
      recomputing = null;
    });
  }
  return recomputing;
}

async function recomputeLoop(): Promise<void> {
  while (dirty) {
    dirty = false;
    const e = engine;
    const s = get();
    if (!e || !s.model || !s.prefill || job) return;
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
function scheduleTail(): void {
  const gen = ++tailGen;
  setTimeout(() => void tail(gen), 0);
}

const SWEEP_ALPHAS = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1];

async function tail(gen: number): Promise<void> {
  const e = engine;
  const s = get();
  const c = s.chosen;
  if (!e || !c || !s.model || job || recomputing) return;
  const sel = s.layers[c.layer]?.heads[c.head];
  if (!sel) return;
  const p = paramsFor(s, c.layer, c.head);
  const key = `${c.layer}:${c.head}:${p.alpha}:${p.rowRatio}:${p.windowRatio}:${s.prefill?.S}`;
  try {
    if (get().latency?.key !== key) {
      const lat = await e.latency(c.layer, c.head, sel.selectedKeys, sel.window);
      if (gen !== tailGen) return;
      set({ latency: { ...lat, key } });
    }
    const sweepKey = `${c.layer}:${c.head}:${p.rowRatio}:${p.windowRatio}:${s.prefill?.S}`;
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

// ---- config export / import ----

export function currentConfig(): SampleConfig {
  const s = get();
  if (!s.model || !s.prefill) throw new Error('Nothing to export yet: the model is still loading.');
  const c = s.model.config;
  return buildConfig({
    model: { name: s.model.name, family: c.family, layers: c.numLayers, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim },
    text: { tokens: s.prefill.S },
    defaults: s.defaults,
    params: allParams(s, c.numLayers, c.numHeads),
    measured: s.layers.map((l) => l?.heads.map((h) => ({ recallMean: h.recallMean, recallMin: h.recallMin, recallP5: h.recallP5, density: h.density })) ?? []),
  });
}

/** Resolves when no recompute is pending, so exported measures belong to the parameters shown. */
export async function settled(): Promise<void> {
  while (recomputing) await recomputing;
}

export async function exportConfig(): Promise<void> {
  try {
    await settled();
    const text = serializeConfig(currentConfig());
    const blob = new Blob([text], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `sampleattention-${get().model!.name}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    set({ configMessage: { ok: true, text: `Exported ${a.download}.` } });
  } catch (e) {
    set({ configMessage: { ok: false, text: (e as Error).message } });
  }
}

/** Loads a config file: validates it, checks it fits the open model, applies its parameters. */
export async function importConfig(file: File): Promise<void> {
  const s = get();
  try {
    const cfg = parseConfig(await file.text(), file.name);
    const c = s.model?.config;
    if (!c) throw new Error('Open a model before importing a config.');
    if (cfg.model.layers !== c.numLayers || cfg.model.heads !== c.numHeads) {
      throw new Error(`${file.name} is for ${cfg.model.name} (${cfg.model.layers} layers x ${cfg.model.heads} heads), but the open model ${s.model!.name} has ${c.numLayers} layers x ${c.numHeads} heads.`);
    }
    const overrides = overridesFrom(cfg.layers.map((layer) => layer.heads), cfg.defaults);
    set({ defaults: { ...cfg.defaults }, overrides, configMessage: { ok: true, text: `Importing ${file.name}: recomputing...` } });
    await scheduleRecompute();
    set({ configMessage: { ok: true, text: `Imported ${file.name}: ${Object.keys(overrides).length} head overrides.` } });
  } catch (e) {
    set({ configMessage: { ok: false, text: (e as Error).message } });
  }
}
