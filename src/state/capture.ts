// A capture file opened without the model (issue 16): the engine reads it layer by layer and runs
// the prefill's code on it (src/engine/capture-source.ts); here it becomes the store's model and
// prefill, and every layer is selected as after a prefill (select-all.ts). The file stays picked so
// a precision switch or an engine restart can open it again. Loading a model leaves capture mode.
import { NO_CHECKS } from './check-actions';
import { need, pipeline } from './session';
import { selectEveryLayer } from './select-all';
import { useStudio, type StudioState } from './store';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

let openFile: File | null = null;

/** The capture file open in the studio, if any. */
export const currentCapture = (): File | null => openFile;

/** Leaves capture mode (a model was loaded in its place). */
export function forgetCapture(): void {
  openFile = null;
}

/** Opens a capture file: named errors (not a capture, truncated, a layer past the adapter's
 * limits) leave what is open as it was. */
export function openCaptureFile(file: File): Promise<void> {
  return pipeline(async (signal) => {
    const e = need();
    set({ status: 'loading', message: `Opening the capture ${file.name}...`, progress: null });
    const o = await e.openCapture(file, file.name);
    openFile = file;
    const { numLayers, numHeads } = o.model.config;
    const c = get().chosen;
    set({
      model: o.model, prefill: o.prefill, modelNote: '',
      overrides: Object.fromEntries(Object.entries(get().overrides).filter(([k]) => {
        const [l, h] = k.split(':').map(Number);
        return l < numLayers && h < numHeads;
      })),
      chosen: c && c.layer < numLayers && c.head < numHeads ? c : { layer: 0, head: 0 },
      layers: [], detail: null, latency: null, sweep: null, timing: null, ...NO_CHECKS,
    });
    await selectEveryLayer(signal);
  });
}

/** Opens the current capture again (after the engine dropped it); false when none is open. */
export function reopenCapture(): boolean {
  if (!openFile) return false;
  void openCaptureFile(openFile);
  return true;
}

/** A dropped or picked file list: one .safetensors file is a capture; anything else a checkpoint. */
export const isCaptureDrop = (files: readonly File[]): boolean => files.length === 1 && /\.safetensors$/i.test(files[0].name);

/** Why a check is off for the open capture, or null when a model is open. */
export function captureOff(s: Pick<StudioState, 'model'>, what: 'check' | 'tokens'): string | null {
  const c = s.model?.capture;
  if (!c) return null;
  if (what === 'check') return `Off for a capture: the near-lossless check and the passkeys run the model (its logits: KL, perplexity, retrieval); ${c.file} holds only q, k, v. Open the model and its text to run them.`;
  return c.hasIds ? 'Tokens are shown by id: a capture has no tokenizer to spell them.' : `Tokens are shown by position: ${c.file} has no token ids (input_ids).`;
}
