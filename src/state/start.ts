// Start-up: URL flags and the saved session, WebGPU (the engine, in a worker when it can be), then
// the served model (the bundled default, or the small fixture when the default is not there yet)
// or a picked one; each opens through the job pipeline (pipeline.ts).
import { GpuUnavailableError, openEngine, type Engine, type OpenOptions } from '../engine/engine-client';
import type { FaultPoint } from '../engine/studio-engine';
import { pickedSource, type CheckpointSource } from '../engine/source';
import { urlFolder } from '../engine/url-files';
import { clearSaved, loadSaved, save } from './persist';
import { loadModel } from './pipeline';
import { base, currentEngine, pipeline, setEngine } from './session';
import { useStudio, type StudioState } from './store';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

let started = false;
const FALLBACK_MODEL = 'fixture-llama3';

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
  engineOptions = optionsFrom(url);
  if (url.has('faults')) exposeFaultHooks();
  if (!(await connectEngine())) return;
  await openServed(get().modelSource.name);
}

let engineOptions: OpenOptions = {};

/** ?engine=main keeps the engine on the main thread (for comparison and debugging);
 * ?heartbeatMs=N declares a silent worker dead after about N ms (tests; default heartbeat.ts). */
function optionsFrom(url: URLSearchParams): OpenOptions {
  const opts: OpenOptions = { where: url.get('engine') === 'main' ? 'main thread' : undefined };
  const ms = Number(url.get('heartbeatMs'));
  if (Number.isFinite(ms) && ms >= 500) {
    const intervalMs = Math.min(1000, Math.round(ms / 5));
    opts.heartbeat = { intervalMs, missedLimit: Math.ceil(ms / intervalMs) };
  }
  return opts;
}

/** Opens WebGPU and the engine (again, after a fault); false when it cannot, said in the status. */
export async function connectEngine(): Promise<boolean> {
  set({ status: 'starting', message: 'Looking for WebGPU...' });
  let engine: Engine;
  try {
    engine = await openEngine(engineOptions);
    setEngine(engine);
  } catch (e) {
    if (e instanceof GpuUnavailableError) set({ status: 'no-webgpu', message: e.message });
    else set({ status: 'error', message: `Could not start WebGPU: ${(e as Error).message}` });
    return false;
  }
  // A failed worker or a lost device is said in a banner with a restart, never a silent hang.
  // (Calls in flight reject with the same message, so the running job ends in 'error' too.) An
  // engine replaced by a restart may report its own closing: that is no fault of the studio's.
  engine.onFailure((fault) => {
    if (currentEngine() === engine && fault.kind !== 'closed') set({ status: 'error', message: fault.message, fault, progress: null });
  });
  set({ fault: null, adapter: `${engine.adapterName} · engine ${engine.where === 'worker' ? 'in a worker' : 'on the main thread'}`, precision: await engine.precisionInfo() });
  return true;
}

/** Test hooks (?faults only): the browser tests lose the device mid-work or end the worker. */
function exposeFaultHooks(): void {
  (globalThis as unknown as { __studioFaults: unknown }).__studioFaults = {
    arm: (point: FaultPoint) => currentEngine()?.armFault(point),
    // Never answered (the worker is gone); the heartbeat rejects it.
    exitWorker: () => void (currentEngine() as unknown as { exitWorker?(): Promise<void> } | null)?.exitWorker?.().catch(() => undefined),
  };
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
    await loadModel(found.files, signal, { kind: 'served', name: found.name }, found.note);
  });
}

/** A checkpoint the user picked as a folder or as files. */
export async function openPicked(list: FileList | File[]): Promise<void> {
  await pipeline(async (signal) => {
    const files = pickedSource(list);
    await loadModel(files, signal, { kind: 'picked', name: files.label });
  });
}

