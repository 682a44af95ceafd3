// The head view's drawing as plain functions of data and a 2D context, apart from React (the
// component only owns state, zoom and refetching): which overlay parts a stage shows, the map's
// geometry under a zoom transform, the pre-rendered planes, and the three painters (map with
// overlays, stage-1 score bars, per-row recall).
import type { ZoomTransform } from 'd3';
import type { HeadPlanes, MapViewport, PoolPlane, PooledMap } from '../../../engine/types';
import type { HeadResult } from '../../../sampleattention/spec/setting';
import { effectiveWindow } from '../../../sampleattention/spec/mask';
import { PALETTE } from '../../../render/palette';
import { STAGE } from '../../../state/store';
import { gridCanvas, tintCanvas } from '../colors';

export const BAR_H = 64;
export const RECALL_W = 120;

/** What the overlay stepper at `overlay` shows: stages 1-4 build the mask part by part; from the
 * final mask on, the parts give way to the mask itself (outside dimmed) and the missed mass. */
export function overlayParts(overlay: number) {
  const upTo = (stage: number) => overlay >= stage;
  const building = overlay < STAGE.finalMask;
  return {
    sampledRows: upTo(STAGE.sampledRows) && building,
    scoreBars: upTo(STAGE.columnScores),
    stripes: upTo(STAGE.stripes) && building,
    window: upTo(STAGE.window) && building,
    /** Kept keys coloured in the score bars, and stage 2's cumulative curve. */
    kept: upTo(STAGE.stripes),
    outside: upTo(STAGE.finalMask),
    missed: upTo(STAGE.missedMass),
  };
}

/** Token rows [r0, r1) and keys [c0, c1) that the transform shows on an M x M canvas. */
export function visibleRange(t: ZoomTransform, M: number, px: number, S: number): MapViewport {
  const tok = (screen: number, shift: number) => (screen - shift) / (t.k * px);
  const clip = (v: number) => Math.max(0, Math.min(S, v));
  return {
    r0: clip(Math.floor(tok(0, t.y))), r1: clip(Math.ceil(tok(M, t.y) - 1e-9)),
    c0: clip(Math.floor(tok(0, t.x))), c1: clip(Math.ceil(tok(M, t.x) - 1e-9)),
  };
}

export const covers = (outer: MapViewport, inner: MapViewport) => outer.r0 <= inner.r0 && outer.r1 >= inner.r1 && outer.c0 <= inner.c0 && outer.c1 >= inner.c1;

/** Where cell (i, j) of the drawn map is read from: the zoomed viewport's planes when they hold it. */
export function planeAt(d: HeadPlanes, plane: PoolPlane, i: number, j: number): { value: number; block: number; i0: number; j0: number } {
  const p: PooledMap = d.planes[plane];
  const a = Math.floor((i - d.viewport.r0) / p.block), b = Math.floor((j - d.viewport.c0) / p.block);
  return { value: p.values[a * p.cols + b], block: p.block, i0: d.viewport.r0 + a * p.block, j0: d.viewport.c0 + b * p.block };
}

/** Pre-rendered planes: one pixel per pooled cell, drawn scaled under the zoom transform. */
export function planeImages(d: HeadPlanes, maxP: number) {
  const p = d.planes;
  const missedMax = p.missedMass.values.reduce((a, v) => (v > a ? v : a), 0);
  const v = d.viewport;
  return {
    attention: gridCanvas(p.maxP.values, p.maxP.rows, p.maxP.cols, { max: maxP }),
    outside: tintCanvas(p.keptFraction.values, p.keptFraction.rows, p.keptFraction.cols, [12, 14, 20], (x) => (x > 0 ? 0.55 * (1 - x) : 0.82)),
    missed: tintCanvas(p.missedMass.values, p.missedMass.rows, p.missedMass.cols, [255, 64, 64], (x) => (missedMax > 0 ? Math.pow(x / missedMax, 0.5) : 0)),
    block: p.maxP.block,
    // The token rectangle the grid covers (its last cells may reach past the viewport; never past S).
    r0: v.r0, c0: v.c0, rowsSpan: p.maxP.rows * p.maxP.block, colsSpan: p.maxP.cols * p.maxP.block,
    viewport: v,
  };
}

export type PlaneImages = ReturnType<typeof planeImages>;

/** A canvas sized for `w` x `h` CSS pixels at the device pixel ratio, its context in CSS pixels. */
export function sizedContext(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  return g;
}

export interface MapScene {
  M: number;
  S: number;
  /** CSS pixels per token at zoom 1. */
  px: number;
  t: ZoomTransform;
  overlay: number;
  sel: HeadResult;
  images: PlaneImages;
  /** The zoomed viewport's planes, drawn over the whole map's where they are. */
  zoomImages: PlaneImages | null;
  /** The drawn cell under the pointer, in tokens. */
  hoverCell: { i0: number; j0: number; block: number } | null;
}

/** The attention map and the stage's overlays, in token coordinates under the zoom transform. */
export function paintMap(g: CanvasRenderingContext2D, sc: MapScene): void {
  const { M, S, px, t, sel, images, zoomImages: z } = sc;
  const parts = overlayParts(sc.overlay);
  g.fillStyle = PALETTE.background;
  g.fillRect(0, 0, M, M);
  g.save();
  g.translate(t.x, t.y);
  g.scale(t.k, t.k);
  g.imageSmoothingEnabled = false;
  // Each plane: the pooled whole map, with the zoomed viewport's planes drawn over their own
  // token rectangle (the whole map's translucent planes are clipped out there, not doubled).
  // Everything is clipped to the S x S map: a grid's last cells may hold fewer tokens than block.
  g.beginPath();
  g.rect(0, 0, S * px, S * px);
  g.clip();
  const layer = (pick: (im: PlaneImages) => HTMLCanvasElement, opaque: boolean) => {
    g.save();
    if (z && !opaque) {
      g.beginPath();
      g.rect(0, 0, S * px, S * px);
      g.rect(z.c0 * px, z.r0 * px, z.colsSpan * px, z.rowsSpan * px);
      g.clip('evenodd');
    }
    g.drawImage(pick(images), images.c0 * px, images.r0 * px, images.colsSpan * px, images.rowsSpan * px);
    g.restore();
    if (z) g.drawImage(pick(z), z.c0 * px, z.r0 * px, z.colsSpan * px, z.rowsSpan * px);
  };
  layer((im) => im.attention, true);
  const hair = 1 / t.k;
  if (parts.outside) layer((im) => im.outside, false);
  if (parts.missed) layer((im) => im.missed, false);
  // Overlays are drawn in token coordinates, cell-aligned, for the visible rows only.
  const v = visibleRange(t, M, px, S);
  if (parts.stripes && sel.variant === 'tokens') {
    // Stage 2: the kept key columns, from their own row down (causal).
    g.fillStyle = 'rgba(95, 211, 154, 0.33)';
    for (const j of sel.selectedKeys) if (j >= v.c0 && j < v.c1) g.fillRect(j * px, j * px, Math.max(px, hair), S * px - j * px);
  }
  if (parts.stripes && sel.variant === 'blocks') {
    // Stage 2 (blocks): the kept column blocks J (keys J*b ..), from the block's first row down.
    const b = sel.blockSize;
    g.fillStyle = 'rgba(95, 211, 154, 0.33)';
    for (const J of sel.columnBlocks) {
      const j0 = J * b, j1 = Math.min(S, j0 + b);
      if (j1 > v.c0 && j0 < v.c1) g.fillRect(j0 * px, j0 * px, (j1 - j0) * px, S * px - j0 * px);
    }
  }
  if (parts.window && sel.variant === 'blocks') {
    // Stage 2 (blocks): the kept slash bands o, keys j of row i with floor((i - j) / b) = o, as
    // whole cells of the visible rows (the mask's rule, blocks/mask.ts).
    const b = sel.blockSize;
    g.fillStyle = 'rgba(120, 170, 255, 0.30)';
    g.beginPath();
    for (let i = v.r0; i < v.r1; i++) {
      for (const o of sel.slashBands) {
        const j1 = i - o * b, j0 = Math.max(0, i - (o + 1) * b + 1);
        if (j1 >= 0) g.rect(j0 * px, i * px, (j1 + 1 - j0) * px, px);
      }
    }
    g.fill();
  }
  if (parts.window && sel.variant === 'tokens') {
    // The local window: keys i - w' + 1 .. i of every row i (w' = max(w, 1), the mask's rule), as
    // whole cells, so it lines up with the exact map when zoomed to single tokens.
    const w = effectiveWindow(sel.window);
    g.fillStyle = 'rgba(120, 170, 255, 0.30)';
    g.beginPath();
    for (let i = v.r0; i < v.r1; i++) {
      const j0 = Math.max(0, i - w + 1);
      g.rect(j0 * px, i * px, (i + 1 - j0) * px, px);
    }
    g.fill();
  }
  if (parts.sampledRows) {
    // Stage 1: the sampled query rows.
    g.strokeStyle = 'rgba(80, 220, 255, 0.9)';
    g.lineWidth = Math.max(hair, Math.min(px, 2 * hair));
    for (const i of sel.sampledRows) {
      if (i < v.r0 || i >= v.r1) continue;
      g.beginPath();
      g.moveTo(0, (i + 0.5) * px);
      g.lineTo((i + 1) * px, (i + 0.5) * px);
      g.stroke();
    }
  }
  const cell = sc.hoverCell;
  if (cell) {
    // The drawn cell under the pointer: one token when exact, a block when pooled.
    g.strokeStyle = '#fff';
    g.lineWidth = 1.5 * hair;
    g.strokeRect(cell.j0 * px, cell.i0 * px, Math.min(cell.block, S - cell.j0) * px, Math.min(cell.block, S - cell.i0) * px);
  }
  g.restore();
}

/** Stage-1 column scores as bars on the key axis (sqrt scale: one sink column often holds most
 * of the mass); kept keys in the kept colour from stage 2 on. */
export function paintScoreBars(g: CanvasRenderingContext2D, scores: Float32Array, keptKeys: readonly number[], M: number, px: number, t: ZoomTransform, overlay: number): void {
  g.clearRect(0, 0, M, BAR_H);
  let max = 0;
  for (let j = 0; j < scores.length; j++) if (scores[j] > max) max = scores[j];
  const kept = new Set(keptKeys);
  const showKept = overlayParts(overlay).kept;
  const w = Math.max(1, px * t.k);
  for (let j = 0; j < scores.length; j++) {
    const x = t.x + t.k * j * px;
    if (x + w < 0 || x > M) continue;
    const h = max > 0 ? Math.sqrt(scores[j] / max) * (BAR_H - 4) : 0;
    g.fillStyle = showKept && kept.has(j) ? PALETTE.kept : PALETTE.scores;
    g.fillRect(x, BAR_H - h, Math.max(1, w - (w > 3 ? 1 : 0)), h);
  }
}

/** A blocks head's strip scores as one bar per block or band (sqrt scale), `x(n)` and `w` placing
 * bar n; kept ones in the kept colour from stage 2 on. The threshold: a dashed line at the
 * smallest kept score, the cut above which the kept strips reach alpha of |R| (stage 2 keeps the
 * fewest in descending order), labelled with alpha and the share they reach. */
export function paintStripBars(g: CanvasRenderingContext2D, scores: Float32Array, kept: readonly number[], W: number, H: number, x: (n: number) => number, w: number, overlay: number, threshold: { alpha: number; reached: number; name: string }): void {
  g.clearRect(0, 0, W, H);
  let max = 0;
  for (let n = 0; n < scores.length; n++) if (scores[n] > max) max = scores[n];
  const keptSet = new Set(kept);
  const showKept = overlayParts(overlay).kept;
  const hOf = (v: number) => (max > 0 ? Math.sqrt(v / max) * (H - 14) : 0);
  for (let n = 0; n < scores.length; n++) {
    const x0 = x(n);
    if (x0 + w < 0 || x0 > W) continue;
    const h = hOf(scores[n]);
    g.fillStyle = showKept && keptSet.has(n) ? PALETTE.kept : PALETTE.scores;
    g.fillRect(x0, H - h, Math.max(1, w - (w > 3 ? 1 : 0)), h);
  }
  if (!showKept || kept.length === 0) return;
  const cut = Math.min(...kept.map((n) => scores[n]));
  const y = H - hOf(cut);
  g.strokeStyle = '#fff';
  g.setLineDash([4, 3]);
  g.beginPath();
  g.moveTo(0, y);
  g.lineTo(W, y);
  g.stroke();
  g.setLineDash([]);
  g.fillStyle = PALETTE.axisText;
  g.font = '10px system-ui';
  g.fillText(`${threshold.name} ${threshold.alpha}: ${kept.length} kept reach ${threshold.reached.toFixed(3)} of |R|`, 4, 10);
}

/** Per-row recall along the sequence, aligned with the map's rows under the same zoom. */
export function paintRecall(g: CanvasRenderingContext2D, recall: Float32Array, M: number, px: number, t: ZoomTransform): void {
  g.clearRect(0, 0, RECALL_W, M);
  const lo = Math.min(0.9, ...Array.from(recall));
  const X = (v: number) => 8 + ((v - lo) / (1 - lo || 1)) * (RECALL_W - 16);
  g.strokeStyle = '#323846';
  g.beginPath();
  g.moveTo(X(1), 0);
  g.lineTo(X(1), M);
  g.stroke();
  g.strokeStyle = PALETTE.kept;
  g.lineWidth = 1.5;
  g.beginPath();
  for (let i = 0; i < recall.length; i++) {
    const y = t.y + t.k * (i + 0.5) * px;
    if (i === 0) g.moveTo(X(recall[i]), y);
    else g.lineTo(X(recall[i]), y);
  }
  g.stroke();
  g.fillStyle = PALETTE.axisText;
  g.font = '10px system-ui';
  g.fillText(lo.toFixed(2), 2, M - 4);
  g.fillText('1', X(1) - 8, M - 4);
}
