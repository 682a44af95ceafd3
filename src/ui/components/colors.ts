// Colour scales shared by the views, as lookup tables (drawing 10^5 cells per frame wants no
// per-cell d3 calls).
import { color as d3color, interpolateInferno, interpolateRdYlGn } from 'd3';

function lut(interp: (t: number) => string): Uint8Array {
  const out = new Uint8Array(256 * 3);
  for (let t = 0; t < 256; t++) {
    const c = d3color(interp(t / 255))!.rgb();
    out[t * 3] = c.r;
    out[t * 3 + 1] = c.g;
    out[t * 3 + 2] = c.b;
  }
  return out;
}

export const INFERNO = lut(interpolateInferno);

/** Recall 0.8 -> red, 1 -> green; below 0.8 stays red. */
export function recallColor(recall: number): string {
  const t = Math.max(0, Math.min(1, (recall - 0.8) / 0.2));
  return interpolateRdYlGn(t);
}

/** Paints a (rows, cols) grid into a new canvas of that many pixels. `gamma` < 1 lifts small
 * values: attention is heavy-tailed and the small-but-real mass should stay visible. */
export function gridCanvas(values: Float32Array, rows: number, cols: number, opts: { gamma?: number; table?: Uint8Array; max?: number; alpha?: (v: number) => number } = {}): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(cols, rows);
  const table = opts.table ?? INFERNO;
  let max = opts.max ?? 0;
  if (opts.max === undefined) for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  const gamma = opts.gamma ?? 0.4;
  for (let i = 0; i < rows * cols; i++) {
    const raw = values[i];
    const v = max > 0 && Number.isFinite(raw) ? Math.pow(Math.max(0, raw) / max, gamma) : 0;
    const t = Math.min(255, Math.round(v * 255));
    img.data[i * 4] = table[t * 3];
    img.data[i * 4 + 1] = table[t * 3 + 1];
    img.data[i * 4 + 2] = table[t * 3 + 2];
    img.data[i * 4 + 3] = opts.alpha ? Math.round(255 * opts.alpha(v)) : 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** A uniform colour whose opacity follows each cell's value (for overlays). */
export function tintCanvas(values: Float32Array, rows: number, cols: number, rgb: [number, number, number], opacity: (v: number) => number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) {
    img.data[i * 4] = rgb[0];
    img.data[i * 4 + 1] = rgb[1];
    img.data[i * 4 + 2] = rgb[2];
    img.data[i * 4 + 3] = Math.round(255 * Math.max(0, Math.min(1, opacity(values[i]))));
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}
