// The studio's session: the engine handle (null before WebGPU is up) and the one job in flight
// (load, text, prefill, selection) plus the one model-wide check (check-actions.ts). A new job
// cancels both. Every other state module drives the engine through here.
import { CancelledError } from '../engine/cancel';
import { EngineLostError, type Engine } from '../engine/engine-client';
import { errorText } from '../engine/revive-input-error';
import type { CheckpointSource } from '../engine/source';
import { useStudio, type StudioState } from './store';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

let engine: Engine | null = null;
let job: AbortController | null = null;
/** The model-wide check in flight (check-actions.ts owns what it does). */
let task: AbortController | null = null;

export function setEngine(e: Engine): void {
  engine = e;
}

/** The checkpoint the studio has open (the last one that loaded), for the engine's restart. */
let openSource: CheckpointSource | null = null;
export const setOpenSource = (s: CheckpointSource) => void (openSource = s);
export const currentSource = () => openSource;

/** The engine, or null before WebGPU is up. */
export function currentEngine(): Engine | null {
  return engine;
}

export function need(): Engine {
  if (!engine) throw new Error('WebGPU is not ready.');
  return engine;
}

/** Whether a model or text job is in flight. */
export const jobRunning = () => !!job;

/** The served folder of the studio (Vite's base URL), ending in '/'. */
export function base(): string {
  const b = import.meta.env.BASE_URL ?? '/';
  return b.endsWith('/') ? b : b + '/';
}

/** Runs `work` as the one job in flight; a new job cancels the old (and any model-wide check). */
export async function pipeline(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
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
      if (!(e instanceof EngineLostError)) console.warn(e);
      set({ status: 'error', message: errorText(e), progress: null });
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

/** Starts a model-wide check: null while another one runs. */
export function beginTask(): AbortController | null {
  if (task) return null;
  task = new AbortController();
  return task;
}

/** Ends the check `ctl` (if it is still the current one); true when it was. */
export function endTask(ctl: AbortController): boolean {
  if (task !== ctl) return false;
  task = null;
  return true;
}

export const isCurrentTask = (ctl: AbortController) => task === ctl;

export function cancelTask(): void {
  task?.abort();
}

/** A failure of interactive GPU work: shown in the status line; the studio stays usable. */
export function reportFailure(what: string, e: unknown): void {
  // A lost engine is said once, by the fault banner and the status line (start.ts).
  if (e instanceof EngineLostError || get().fault) return;
  console.warn(e);
  set({ message: `${what} failed: ${errorText(e)}` });
}
