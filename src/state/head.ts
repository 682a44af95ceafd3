// The chosen head: choosing it, the overlay stage, its whole-map planes and a zoomed viewport's.
import type { HeadPlanes, MapViewport } from '../engine/types';
import { detailSide } from './detail-side';
import { scheduleTail } from './params';
import { currentEngine, jobRunning, reportFailure } from './session';
import { OVERLAYS, useStudio, type StudioState } from './store';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

export async function chooseHead(layer: number, head: number): Promise<void> {
  set({ chosen: { layer, head }, detail: null, latency: null });
  try {
    await refreshChosen();
  } catch (e) {
    reportFailure('Drawing the head', e);
  }
}

export function setOverlay(n: number): void {
  set({ overlay: Math.max(0, Math.min(n, OVERLAYS.length - 1)) });
}

let detailGen = 0;
/** Re-reads the chosen head's maps, scores and recall from its layer's current run. */
export async function refreshChosen(signal?: AbortSignal): Promise<void> {
  const c = get().chosen;
  const engine = currentEngine();
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
  const engine = currentEngine();
  if (!engine || jobRunning() || !c || c.layer !== layer || c.head !== head || !get().layers[layer]) return null;
  try {
    const d = await engine.headPlanes(layer, head, side, viewport);
    const now = get().chosen;
    return now && now.layer === layer && now.head === head ? d : null;
  } catch (e) {
    console.warn('head viewport failed', e);
    return null;
  }
}

