// The studio's state: one zustand store. It keeps what the user chose and what the engine
// returned; anything computable from those (a head's effective parameters, model-wide means, the
// chosen head's selection) is derived by the selectors in selectors.ts, never stored twice.
import { create } from 'zustand';
import type { PrecisionInfo } from '../engine/types';
import type { EngineFault } from '../engine/engine-client';
import type { HeadDetail, LatencyResult, LayerResult, LoadedModel, PrefillResult, Progress } from '../engine/types';
import type { CheckReport } from '../engine/checks';
import type { RivalsStudy as RivalsReport } from '../sampleattention/studies/rivals-study';
import type { TuneReport } from '../engine/checks';
import { DEFAULT_SETTINGS, type HeadSetting, type Variant } from '../sampleattention/spec/setting';
import type { Override } from './settings';
import type { MInferenceConfig } from '../sampleattention/formats/minference-file';

export type Status = 'starting' | 'loading' | 'running' | 'ready' | 'error' | 'no-webgpu' | 'cancelled';

/** Where the text comes from. `body` is kept for pasted and file texts (samples are re-fetched). */
export interface TextChoice {
  kind: 'sample' | 'pasted' | 'file' | 'passkey';
  name: string;
  body?: string;
}

/** Overlays of the head view, in the order of the algorithm; the view shows 0..overlay. */
export const OVERLAYS = [
  'Attention map',
  'Stage 1: sampled rows',
  'Stage 1: column scores',
  'Stage 2: selected stripes',
  'Local window',
  'Final mask',
  'Missed attention mass',
] as const;

/** The same stages' names for a blocks head (docs/SAMPLEATTENTION.md, "Variant `blocks`"):
 * stage 2's stripes are its kept column blocks, the window's place its kept slash bands. */
export const BLOCKS_OVERLAYS: Record<(typeof OVERLAYS)[number], string> = {
  'Attention map': 'Attention map',
  'Stage 1: sampled rows': 'Stage 1: sampled tail rows',
  'Stage 1: column scores': 'Stage 1: block and band scores',
  'Stage 2: selected stripes': 'Stage 2: kept column blocks',
  'Local window': 'Stage 2: kept slash bands',
  'Final mask': 'Final mask',
  'Missed attention mass': 'Missed attention mass',
};

/** Each stage's place in OVERLAYS, by name, so the views ask for a stage, not a number. */
export const STAGE = { map: 0, sampledRows: 1, columnScores: 2, stripes: 3, window: 4, finalMask: 5, missedMass: 6 } as const;

export type TaskKind = 'tune' | 'check' | 'rivals-head' | 'rivals-model';

export interface SweepPoint {
  /** tokens: alpha; blocks: alphaColumn = alphaSlash. */
  alpha: number;
  recallMean: number;
  density: number;
}

export interface StudioState {
  status: Status;
  message: string;
  progress: Progress | null;
  adapter: string;
  /** Why the engine stopped (device lost, worker died): the fault banner offers a restart. */
  fault: EngineFault | null;
  /** The engine's precision (f32 exact, f16 tensor cores) and whether f16 exists here. */
  precision: PrecisionInfo;
  /** The served model folder (public/models/<name>) or a picked folder's label. */
  modelSource: { kind: 'served' | 'picked'; name: string };
  /** Why the studio opened another model than the one asked for, if it did. */
  modelNote: string;
  model: LoadedModel | null;
  text: TextChoice;
  maxTokens: number;
  prefill: PrefillResult | null;
  /** Every head's setting (either variant), unless overridden. */
  defaults: HeadSetting;
  /** Per-head overrides, keyed "layer:head" (settings.ts: fields, and maybe another variant). */
  overrides: Record<string, Override>;
  layers: (LayerResult | null)[];
  chosen: { layer: number; head: number } | null;
  detail: HeadDetail | null;
  overlay: number;
  /** The last slider move: the chosen layer's time (to its redraw), the whole model's once done,
   * and how many of the other layers have run again so far. */
  timing: { layerMs: number; modelMs: number | null; heads: number; othersDone: number; others: number } | null;
  latency: (LatencyResult & { key: string }) | null;
  /** The chosen head's alpha sweep: tokens' alpha, or blocks' alphaColumn = alphaSlash at its
   * block size (params.ts sweepSetting). */
  sweep: { key: string; variant: Variant; blockSize?: number; points: SweepPoint[] } | null;
  configMessage: { ok: boolean; text: string } | null;
  busy: boolean;
  /** The model-wide check in flight (auto-tune, near-lossless check, rivals): one at a time. */
  task: { kind: TaskKind; progress: Progress | null; message: string } | null;
  /** The last result of each check and the parameters it ran with (paramsKey of selectors.ts),
   * so a view can say when the sliders have moved since. Cleared when the text changes. */
  tuneReport: TuneReport | null;
  checkReport: (CheckReport & { paramsKey: string }) | null;
  rivals: { head: (RivalsReport & { layer: number; head: number; paramsKey: string }) | null; model: (RivalsReport & { paramsKey: string }) | null };
  /** Why the last check failed or stopped. */
  taskMessage: { ok: boolean; text: string } | null;
  /** A MInference per-head config imported into the rival panel: measured beside the patterns. */
  minference: { source: string; config: MInferenceConfig } | null;
  set(partial: Partial<Omit<StudioState, 'set'>>): void;
}

export const DEFAULT_MAX_TOKENS = 512;

export const useStudio = create<StudioState>((set) => ({
  status: 'starting',
  message: '',
  progress: null,
  adapter: '',
  fault: null,
  precision: { precision: 'f32', f16: false, missing: [] },
  modelSource: { kind: 'served', name: 'default' },
  modelNote: '',
  model: null,
  text: { kind: 'sample', name: 'prose-nodejs-pull-requests.md' },
  maxTokens: DEFAULT_MAX_TOKENS,
  prefill: null,
  defaults: { ...DEFAULT_SETTINGS.tokens },
  overrides: {},
  layers: [],
  chosen: null,
  detail: null,
  overlay: 0,
  timing: null,
  latency: null,
  sweep: null,
  configMessage: null,
  busy: false,
  task: null,
  tuneReport: null,
  checkReport: null,
  rivals: { head: null, model: null },
  taskMessage: null,
  minference: null,
  set: (partial) => set(partial),
}));

export const headKey = (layer: number, head: number) => `${layer}:${head}`;
export const headName = (layer: number, head: number) => `Layer ${layer} head ${head}`;
