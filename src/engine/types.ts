// What the studio's UI may ask of the engine: the one place that talks to the GPU. Results are
// plain data (typed arrays, numbers), so the store can hold them and components can draw them.
import type { ModelConfig } from '../model/config';

export interface Progress {
  phase: 'load' | 'tokenize' | 'prefill' | 'select' | 'measure';
  done: number;
  total: number;
  /** Unit of done/total, e.g. 'bytes', 'layers', 'heads'. */
  unit: string;
}

export interface LoadedModel {
  name: string;
  config: ModelConfig;
  parameters: number;
}

export interface PrefillResult {
  ids: Int32Array;
  /** Decoded text of each token, for labels. */
  tokens: string[];
  S: number;
  ms: number;
}

/** A (rows, cols) grid pooled from an S x S map; block = keys (and queries) per cell. */
export interface PooledMap {
  values: Float32Array;
  rows: number;
  cols: number;
  block: number;
}
