// "Restart engine": the one-click recovery after a lost GPU device or a dead worker. The old
// engine is closed (its worker terminated), a fresh one opens its own device, the precision is
// set again, and the open checkpoint (the same source: served folder or the user's picked files,
// still readable on this side) is loaded and the text run. The store kept what the user chose
// (text, max tokens, defaults, per-head overrides, the chosen head), and the pipeline applies it
// as on any load, so the studio comes back as it was.
import { loadModel } from './pipeline';
import { currentEngine, currentSource, pipeline } from './session';
import { connectEngine, openServed } from './start';
import { useStudio } from './store';
import { reopenCapture } from './capture';

const get = () => useStudio.getState();

let restarting = false;

export async function restartEngine(): Promise<void> {
  if (restarting) return;
  restarting = true;
  try {
    const precision = get().precision.precision;
    const old = currentEngine();
    if (!(await connectEngine())) return;
    old?.close();
    const e = currentEngine()!;
    if (precision === 'f16' && get().precision.f16) useStudio.getState().set({ precision: await e.setPrecision('f16') });
    const source = currentSource();
    if (reopenCapture()) return; // a capture file open: read it again
    if (source) await pipeline((signal) => loadModel(source, signal));
    else await openServed(get().modelSource.name);
  } finally {
    restarting = false;
  }
}
