// A square heat map on a canvas: one cell per value of a (rows, cols) grid, colour by a d3
// sequential scale. Attention is heavy-tailed, so values are shown on a power scale (gamma) that
// keeps small-but-real mass visible without hiding the peaks.
import { useEffect, useRef } from 'react';
import { color as d3color, interpolateInferno, scaleSequential } from 'd3';

export interface HeatCanvasProps {
  values: Float32Array;
  rows: number;
  cols: number;
  /** CSS pixel size of the drawn square. */
  size: number;
  gamma?: number;
  label: string;
}

export function HeatCanvas({ values, rows, cols, size, gamma = 0.4, label }: HeatCanvasProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    canvas.width = cols;
    canvas.height = rows;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(cols, rows);
    let max = 0;
    for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
    const scale = scaleSequential(interpolateInferno).domain([0, 1]);
    const lut = new Uint8Array(256 * 3);
    for (let t = 0; t < 256; t++) {
      const c = d3color(scale(t / 255))!.rgb();
      lut[t * 3] = c.r;
      lut[t * 3 + 1] = c.g;
      lut[t * 3 + 2] = c.b;
    }
    for (let i = 0; i < rows * cols; i++) {
      const v = max > 0 ? Math.pow(Math.max(0, values[i]) / max, gamma) : 0;
      const t = Math.min(255, Math.round(v * 255));
      img.data[i * 4] = lut[t * 3];
      img.data[i * 4 + 1] = lut[t * 3 + 1];
      img.data[i * 4 + 2] = lut[t * 3 + 2];
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [values, rows, cols, gamma]);
  return <canvas ref={ref} className="map" role="img" aria-label={label} style={{ width: size, height: size }} />;
}
