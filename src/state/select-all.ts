// SampleAttention on every layer the engine holds, then the chosen head's view: what follows a
// prefill (pipeline.ts) and the opening of a capture file (capture.ts), one home for both.
import { CancelledError } from '../engine/cancel';
import { yieldToUi } from '../util/yield-to-ui';
import { refreshChosen } from './head';
import { layerParams } from './selectors';
import { need } from './session';
import { useStudio, type StudioState } from './store';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

export async function selectEveryLayer(signal: AbortSignal): Promise<void> {
  const e = need();
  const L = e.layers;
  const heads = get().model!.config.numHeads;
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

