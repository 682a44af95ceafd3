// The job pipeline of the studio, in the order data flows: load a checkpoint -> the text ->
// tokenize -> prefill (the engine captures q/k/v) -> SampleAttention on every layer -> the chosen
// head's view. Any change of model or text runs it again as one cancellable job (session.ts).
import { CancelledError } from '../engine/cancel';
import type { CheckpointSource } from '../engine/source';
import { makePasskeyText } from '../texts/passkey';
import { yieldToUi } from '../util/yield-to-ui';
import { NO_CHECKS } from './check-actions';
import { refreshChosen } from './head';
import { layerParams } from './selectors';
import { base, need, pipeline, setOpenSource } from './session';
import { useStudio, type StudioState, type TextChoice } from './store';
import { textUrl } from './texts';
import { tokensLayer, toSettings } from './tokens-boundary';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

/** Opens a checkpoint. Until the engine has read, validated and built it, the open model, its
 * text, runs and views stay as they are: a broken folder ends in its named error (the CLI's
 * message) with the last good model still usable. `source` is what the model picker then shows. */
export async function loadModel(files: CheckpointSource, signal: AbortSignal, source: StudioState['modelSource'] = get().modelSource, note = ''): Promise<void> {
  const e = need();
  set({ status: 'loading', message: `Loading ${files.label}...` });
  const model = await e.loadModel(files, (done, total) => set({ progress: { phase: 'load', done, total, unit: 'bytes' } }), signal);
  setOpenSource(files);
  const { numLayers, numHeads, maxPositions } = model.config;
  const c = get().chosen;
  // Overrides and the chosen head belong to a model shape; drop what does not fit this one.
  const overrides = Object.fromEntries(Object.entries(get().overrides).filter(([k]) => {
    const [l, h] = k.split(':').map(Number);
    return l < numLayers && h < numHeads;
  }));
  // Max tokens above the model's positions would make every longer text a LimitError: lower it, saying so.
  const lowered = get().maxTokens > maxPositions;
  const notes = [note, lowered ? `Max tokens lowered from ${get().maxTokens} to ${maxPositions}, the positions of ${model.name}.` : ''].filter(Boolean).join(' ');
  set({
    model, overrides, modelSource: source, modelNote: notes, ...(lowered ? { maxTokens: maxPositions } : {}),
    chosen: c && c.layer < numLayers && c.head < numHeads ? c : { layer: 0, head: 0 },
    prefill: null, layers: [], detail: null, latency: null, sweep: null,
  });
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

/** Tokenize, prefill, select every layer: what follows any change of model or text. A text that
 * cannot run (past the model's positions, no tokens) is named before anything is cleared, and
 * `undo` puts back the choice that asked for it, so the last text's results stay shown. */
async function runText(signal: AbortSignal, undo: Partial<StudioState> = {}): Promise<void> {
  const e = need();
  const s = get();
  set({ status: 'running', message: 'Tokenizing...', progress: null });
  let ids: Int32Array, tokens: string[];
  try {
    const body = await textBody(s.text);
    ({ ids, tokens } = await e.tokenize(body, s.maxTokens, s.text.name));
  } catch (err) {
    set(undo);
    throw err;
  }
  set({ prefill: null, layers: [], detail: null, latency: null, sweep: null, ...NO_CHECKS });
  set({ message: `Prefill of ${ids.length} tokens...`, progress: { phase: 'prefill', done: 0, total: s.model!.config.numLayers, unit: 'layers' } });
  await yieldToUi();
  const pre = await e.prefill(ids, (done, total) => set({ progress: { phase: 'prefill', done, total, unit: 'layers' } }), signal);
  set({ prefill: { ids, tokens, S: ids.length, ms: pre.ms } });
  const L = e.layers;
  const heads = s.model!.config.numHeads;
  const layers: StudioState['layers'] = Array.from({ length: L }, () => null);
  for (let l = 0; l < L; l++) {
    set({ message: `SampleAttention, layer ${l + 1} of ${L}...`, progress: { phase: 'select', done: l, total: L, unit: 'layers' } });
    layers[l] = tokensLayer(await e.selectLayer(l, toSettings(layerParams(get(), l, heads))));
    set({ layers: [...layers] });
    if (signal.aborted) throw new CancelledError();
    await yieldToUi();
  }
  set({ progress: null });
  await refreshChosen(signal);
  set({ status: 'ready', message: '' });
}

// ---- text ----

export async function chooseText(text: TextChoice): Promise<void> {
  const undo = { text: get().text };
  set({ text });
  if (!get().model) return;
  await pipeline((signal) => runText(signal, get().prefill ? undo : {}));
}

export async function setMaxTokens(n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 1) return;
  const undo = { maxTokens: get().maxTokens };
  set({ maxTokens: n });
  if (!get().model) return;
  await pipeline((signal) => runText(signal, get().prefill ? undo : {}));
}


// ---- precision ----

/** f32 (exact) or f16 (tensor cores): the engine rebuilds the model, then the text runs again. */
export async function choosePrecision(p: 'f32' | 'f16'): Promise<void> {
  const e = need();
  try {
    set({ precision: await e.setPrecision(p) });
  } catch (err) {
    set({ message: (err as Error).message });
    return;
  }
  if (!get().model) return;
  await pipeline((signal) => runText(signal));
}
