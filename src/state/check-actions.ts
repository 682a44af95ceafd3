// The model-wide checks the studio runs on the open model and text (issue 7): auto-tune (its
// result becomes the per-head parameters), the near-lossless check (dense vs SampleAttention on
// the model's own outputs) and the rival patterns. One runs at a time, with progress, and can be
// cancelled; a new model or text cancels it. The engine does the work; results go to the store.
import { CancelledError } from '../engine/cancel';
import type { Progress } from '../engine/types';
import type { PasskeyPlan } from '../sampleattention/studies/near-lossless';
import { variantCounts, variantCountsText, type HeadChoice, type TuneGrid, type TuneRule } from '../sampleattention/studies/tune';
import { DEFAULT_SETTINGS } from '../sampleattention/spec/setting';
import { checkMInferenceFits, parseMInference } from '../sampleattention/formats/minference-file';
import { allParams, overridesFrom, paramsKey } from './selectors';
import { useStudio, type StudioState, type TaskKind } from './store';
import { scheduleRecompute, studioBusy } from './params';
import { beginTask, currentEngine, endTask, isCurrentTask } from './session';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

/** What a new text or model resets. */
export const NO_CHECKS = { tuneReport: null, checkReport: null, rivals: { head: null, model: null }, taskMessage: null, minference: null } satisfies Partial<StudioState>;

/** Rival patterns run in float64 on the CPU, O(S^2 d) per head: beyond this many tokens they use
 * the text's first tokens (causal attention makes that prefix an exact problem of its own). */
export const RIVALS_MAX_TOKENS = 1024;

export { cancelTask } from './session';

const PHASE: Record<TaskKind, Progress['phase']> = { tune: 'tune', check: 'check', 'rivals-head': 'rivals', 'rivals-model': 'rivals' };

async function runTask(kind: TaskKind, label: string, work: (signal: AbortSignal, progress: (done: number, total: number, unit: string, what: string) => void) => Promise<void>): Promise<void> {
  const e = currentEngine();
  const s = get();
  if (!e || !s.model || !s.prefill) {
    set({ taskMessage: { ok: false, text: `${label}: open a model and a text first.` } });
    return;
  }
  const ctl = s.busy || studioBusy() ? null : beginTask();
  if (!ctl) {
    set({ taskMessage: { ok: false, text: `${label}: wait for the current work to finish (or cancel it).` } });
    return;
  }
  set({ task: { kind, progress: null, message: `${label}...` }, taskMessage: null });
  try {
    await work(ctl.signal, (done, total, unit, what) => {
      if (isCurrentTask(ctl)) set({ task: { kind, progress: { phase: PHASE[kind], done, total, unit }, message: `${label}: ${what}` } });
    });
  } catch (err) {
    const cancelled = ctl.signal.aborted || err instanceof CancelledError || (err as Error)?.name === 'CancelledError';
    if (!cancelled) console.warn(err);
    set({ taskMessage: { ok: false, text: cancelled ? `${label} cancelled.` : `${label} failed: ${(err as Error).message}` } });
  } finally {
    if (endTask(ctl)) set({ task: null });
  }
}

// ---- auto-tune ----

/** The overrides that make every head run its tuned setting (either variant) on top of the
 * spec's tokens defaults: a tokens head's differing fields, a blocks head's variant and fields. */
export function tunedOverrides(choices: readonly (readonly HeadChoice[])[]): StudioState['overrides'] {
  return overridesFrom(choices.map((layer) => layer.map((c) => c.params)), DEFAULT_SETTINGS.tokens);
}

/** Tunes every head on the current text on `grid` (its variant: tokens, blocks or both, each head
 * then choosing its variant, as `sa-studio tune --variant`) and applies the result as the studio's
 * parameters: the defaults become the spec's tokens defaults, each head its choice. */
export function runTune(rule: TuneRule, grid: TuneGrid): Promise<void> {
  return runTask('tune', 'Auto-tune', async (signal, progress) => {
    const report = await currentEngine()!.tune(rule, grid, progress, signal);
    set({ tuneReport: report, defaults: { ...DEFAULT_SETTINGS.tokens }, overrides: tunedOverrides(report.choices) });
    // The tuned parameters are now the studio's: redraw every head with them.
    await scheduleRecompute();
    const all = report.choices.flat();
    const met = all.filter((c) => c.met).length;
    set({ taskMessage: { ok: true, text: `Auto-tune applied to ${all.length} heads (${met} meet the rule; ${variantCountsText(variantCounts(report.choices))}). "Export config" saves it; "Reset all" undoes it.` } });
  });
}

// ---- the near-lossless check ----

export function runCheck(passkey: PasskeyPlan | null): Promise<void> {
  return runTask('check', 'Near-lossless check', async (signal, progress) => {
    const s = get();
    const c = s.model!.config;
    const report = await currentEngine()!.check(allParams(s, c.numLayers, c.numHeads), passkey, progress, signal);
    set({ checkReport: { ...report, paramsKey: paramsKey(s) } });
  });
}

// ---- rival patterns ----

export function runRivals(scope: 'head' | 'model'): Promise<void> {
  return runTask(scope === 'head' ? 'rivals-head' : 'rivals-model', scope === 'head' ? 'Rival patterns (this head)' : 'Rival patterns (every head)', async (signal, progress) => {
    const s = get();
    const c = s.model!.config;
    const which = scope === 'head' ? s.chosen : null;
    if (scope === 'head' && !which) throw new Error('choose a head first.');
    // An imported MInference config adds its fixed pattern per head, as `rivals --minference`.
    const mi = s.minference ?? undefined;
    // Each head at its own current setting, either variant (rivals-study.ts headRivalOptions).
    const report = await currentEngine()!.rivals(allParams(s, c.numLayers, c.numHeads), which, RIVALS_MAX_TOKENS, progress, signal, mi);
    const key = paramsKey(s);
    const rivals = get().rivals;
    set({ rivals: scope === 'head' ? { ...rivals, head: { ...report, layer: which!.layer, head: which!.head, paramsKey: key } } : { ...rivals, model: { ...report, paramsKey: key } } });
  });
}

/** Reads a MInference per-head config (its minference/configs/*.json, or `sa-studio convert --to
 * minference`) into the rival panel: a bad file or one for another shape is refused with its named
 * error (MInferenceConfigError, as the CLI says it); a good one is measured on every head at once. */
export async function importMInference(file: File): Promise<void> {
  const s = get();
  if (!s.model) {
    set({ taskMessage: { ok: false, text: 'Import MInference config: open a model or a capture first.' } });
    return;
  }
  try {
    const config = parseMInference(await file.text(), file.name);
    const { numLayers, numHeads } = s.model.config;
    const all = (n: number) => Array.from({ length: n }, (_, i) => i);
    checkMInferenceFits(config, numLayers, all(numLayers), all(numHeads), file.name);
    set({ minference: { source: file.name, config } });
  } catch (e) {
    set({ taskMessage: { ok: false, text: `Import MInference config: ${(e as Error).message}` } });
    return;
  }
  await runRivals('model');
}
