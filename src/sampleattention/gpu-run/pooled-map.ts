// Pooled attention maps: what the GPU run's pooling gives (gpu/sample/pool), for the studio's
// views and the CLI's pictures alike.

/** A (rows, cols) grid pooled from an S x S map; block = keys (and queries) per cell. */
export interface PooledMap {
  values: Float32Array;
  rows: number;
  cols: number;
  block: number;
}

/** The planes of a pooled map: max and sum of P per cell, kept share, and the mass dropped. */
export type PoolPlane = 'maxP' | 'sumP' | 'keptFraction' | 'missedMass';
