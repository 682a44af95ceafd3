// What the studio's UI may ask of the engine: the one place that talks to the GPU. Results are
// plain data (typed arrays, numbers), so the store can hold them and components can draw them.
import type { ModelConfig } from '../model/config';
import type { HeadResult } from '../sampleattention/spec/setting';
import type { ModelIdentity } from '../sampleattention/formats/config-file';

export interface Progress {
  phase: 'load' | 'tokenize' | 'prefill' | 'select' | 'measure' | 'tune' | 'check' | 'rivals';
  done: number;
  total: number;
  /** Unit of done/total, e.g. 'bytes', 'layers', 'heads'. */
  unit: string;
}

export interface LoadedModel {
  name: string;
  config: ModelConfig;
  parameters: number;
  /** Set when the studio looks at a capture file instead of a model (StudioEngine.openCapture):
   * `config` then holds the capture's shape only (its layers, heads, kv heads, head dim; S as its
   * positions) and there is no model to run. */
  capture?: CaptureSummary;
}

/** What a capture file holds (src/sampleattention/formats/capture-file.ts), for the UI. */
export interface CaptureSummary {
  file: string;
  bytes: number;
  S: number;
  /** The model's index of each captured layer; the studio's layer l is layers[l]. */
  layers: number[];
  heads: number;
  kvHeads: number;
  headDim: number;
  hasV: boolean;
  /** The file has the token ids (input_ids) / the text (metadata). */
  hasIds: boolean;
  hasText: boolean;
  modelName?: string;
  family?: string;
  /** The model's layer count, when the metadata says. */
  numLayers?: number;
  /** The identity a config export records, or why the file cannot give one. */
  identity?: ModelIdentity;
  identityProblem?: string;
  /** q + k (+ v) bytes of one layer, and how many layers the engine keeps on the GPU at once. */
  layerBytes: number;
  maxResident: number;
  /** The limit: one layer's q (heads, S, d) f32 must fit one GPU buffer of `bindingBytes`; at
   * this capture's heads and d that is at most `maxTokens` tokens on this adapter. */
  bindingBytes: number;
  maxTokens: number;
}

/** What openCapture returns: the capture as the store's model, and its tokens as a prefill. */
export interface CaptureOpened {
  model: LoadedModel;
  prefill: PrefillResult;
  /** The captured text, when it travelled with the file. */
  text?: string;
}

export interface PrefillResult {
  ids: Int32Array;
  /** Decoded text of each token, for labels. */
  tokens: string[];
  S: number;
  ms: number;
}

export type { PooledMap, PoolPlane } from '../sampleattention/gpu-run/pooled-map';
import type { PooledMap, PoolPlane } from '../sampleattention/gpu-run/pooled-map';

/** One layer's SampleAttention under the current settings: each head's selection tagged by its
 * variant (the studio draws either: head-view/painters.ts). */
export interface LayerResult<H = HeadResult> {
  heads: H[];
  /** Small max-pooled attention map of every head, for the overview. */
  thumbs: PooledMap[];
}

/** Query rows [r0, r1) and keys [c0, c1) of a head's S x S map. */
export interface MapViewport {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** One head's maps pooled over a viewport: what a zoomed head view draws over the whole map. */
export interface HeadPlanes {
  /** The pooled planes of `viewport`: cell (a, b) covers rows r0 + a*block.. and keys c0 + b*block..
   * (block 1: one cell per token, exact). */
  planes: Record<PoolPlane, PooledMap>;
  /** The part of the map the planes cover. */
  viewport: MapViewport;
}

/** What the head view draws for one head: its whole map, column scores and row recall. */
export interface HeadDetail extends HeadPlanes {
  layer: number;
  head: number;
  /** Stage-1 column scores c_j, (S). */
  scores: Float32Array;
  /** Per-row recall R_i, (S). */
  recall: Float32Array;
  /** A blocks head's strip scores (engine/block-strips.ts): C_J and D_o, (nb) f32 each. */
  strips?: { column: Float32Array; slash: Float32Array };
}

export interface LatencyResult {
  /** f32 kernels (the exact path). */
  denseMs: number;
  /** tokens: the sparse pass over the head's kept keys and window; blocks: the block-sparse pass
   * over the blocks and bands its timed stages kept. */
  sparseMs: number;
  /** blocks: its stages 1+2 (row pass, strip sums, stage 2), timed beside the sparse pass. */
  stagesMs?: number;
  /** The same head on tensor cores, where the device has them. */
  f16?: { denseMs: number; sparseMs: number; stagesMs?: number };
  /** Which variant's kernels were timed (absent with a note: none were). */
  variant?: 'tokens' | 'blocks';
  repeats: number;
  adapter: string;
  /** Why there is no figure, when there is none. */
  note?: string;
}

/** The precision the engine runs and whether this device offers f16 tensor cores. */
export interface PrecisionInfo {
  precision: 'f32' | 'f16';
  f16: boolean;
  /** What f16 lacks here (empty when it can run). */
  missing: string[];
}
