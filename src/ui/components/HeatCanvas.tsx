// A small heat map on a canvas: one pixel per cell of a (rows, cols) grid, scaled up by CSS.
import { useEffect, useRef } from 'react';
import { gridCanvas } from './colors';

export interface HeatCanvasProps {
  values: Float32Array;
  rows: number;
  cols: number;
  /** CSS pixel size of the drawn square. */
  size: number;
  gamma?: number;
  label?: string;
}

export function HeatCanvas({ values, rows, cols, size, gamma = 0.4, label }: HeatCanvasProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    canvas.width = cols;
    canvas.height = rows;
    canvas.getContext('2d')!.drawImage(gridCanvas(values, rows, cols, { gamma }), 0, 0);
  }, [values, rows, cols, gamma]);
  return <canvas ref={ref} className="map" role={label ? 'img' : undefined} aria-label={label} aria-hidden={label ? undefined : true} style={{ width: size, height: size }} />;
}
