// The studio's model-wide checks (issue 7), run by the engine on what it already holds: the
// captured q/k of the current text (auto-tune, rival patterns) and the built model (the
// near-lossless check). Thin adapters over the library's studies (src/sampleattention/studies:
// tuneModel, nearLosslessStudy, rivalsStudy), the same functions `sa-studio tune|eval|rivals`
// call, so the studio and the command line print the same numbers by construction. What is added
// here is the studio's: progress as (done, total, unit, what), cancellation, yields to the worker.
import type { GpuContext } from '../../gpu/device';
import type { Checkpoint } from '../model/loader/checkpoint';
import { forward, type Model } from '../model/forward';
import { generateGreedy } from '../model/generate';
import { nearLosslessStudy, type ModelRun, type NearLosslessReport, type PasskeyPlan } from '../sampleattention/studies/near-lossless';
import { sampleAttentionFactory } from '../sampleattention/gpu-run/model-attention';
import { rivalsStudy, type QKCapture, type QKLayerSource, type RivalsMInference, type RivalsStudy } from '../sampleattention/studies/rivals-study';
import { gridPoints, headShape, tuneModel, type LayerSource, type TuneGrid, type TuneReport as LibraryTuneReport, type TuneRule } from '../sampleattention/studies/tune';
import type { SettingLike } from '../sampleattention/spec/setting';
import type { TensorCoreMode } from '../../gpu/tensorcore/support';
import { yieldToUi } from '../util/yield-to-ui';
import { throwIfCancelled } from './cancel';

export type { PasskeyPlan };

/** The studio's tune report: the library's, each head's choice a HeadSetting of either variant. */
export type TuneReport = LibraryTuneReport;

/** (done, total, unit, what): progress of a long check. */
export type CheckProgress = (done: number, total: number, unit: string, what: string) => void;

/** Auto-tune on the current text's q/k where the prefill left them, on the GPU (with its dense
 * log-sum-exp, so the grid runs no dense pass), or on a capture's layers as they are uploaded.
 * The grid as given, its `variant` included (tokens, blocks or both, as `sa-studio tune
 * --variant`): tuneModel on it, so the studio and the command line choose the same settings. */
export async function tuneCapture(ctx: GpuContext, c: { numLayers: number; numHeads: number; numKvHeads: number; headDim: number }, layers: LayerSource, rule: TuneRule, grid: TuneGrid, onProgress: CheckProgress, signal?: AbortSignal, tensorCores?: TensorCoreMode): Promise<TuneReport> {
  const { numLayers } = c;
  const points = gridPoints(grid, layers.S).length;
  // At the studio's precision, as `tune --precision f16` runs the grid on tensor cores.
  return tuneModel(ctx, { ...headShape(c), tensorCores }, layers, rule, grid, (l, _, done) => {
    throwIfCancelled(signal);
    onProgress(l * points + done, numLayers * points, 'grid points', `layer ${l + 1} of ${numLayers}`);
  });
}

/** The library's report of the current text, and the adapter it ran on. */
export type CheckReport = NearLosslessReport & { adapter: string };

/** Dense vs SampleAttention (per-head `params`) on the current text's ids, and passkey cases. */
export async function nearLosslessCheck(ctx: GpuContext, model: Model, cp: Checkpoint, ids: Int32Array, params: readonly (readonly SettingLike[])[], passkey: PasskeyPlan | null, adapter: string, onProgress: CheckProgress, signal?: AbortSignal): Promise<CheckReport> {
  let phase = '';
  let step = 0;
  // Each forward pass reports its layers; cancelling throws between layers (the pass frees its buffers).
  const run: ModelRun = {
    forward: (x, o) => forward(model, x, {
      ...o,
      onProgress: (done, of) => {
        throwIfCancelled(signal);
        if (phase !== 'passkey') onProgress(step * of + done, 2 * of, 'layers', phase); // dense, then sparse
      },
    }),
    // The passkeys' KV-cache generation, cancellable between prefill layers and between tokens.
    generate: async (x, steps, attention) => (await generateGreedy(model, x, steps, {
      attention,
      onPrefillLayer: () => throwIfCancelled(signal),
      onToken: () => throwIfCancelled(signal),
    })).tokens,
  };
  const report = await nearLosslessStudy(run, cp.tokenizer, cp.config, [ids], sampleAttentionFactory(ctx, headShape(cp.config), params), passkey, {
    onPass: (_, pass) => {
      phase = `${pass} pass over ${ids.length} tokens`;
      step = pass === 'dense' ? 0 : 1;
    },
    between: async () => {
      await yieldToUi();
      phase = 'passkey';
    },
    onCase: (done, of, L, depth) => {
      throwIfCancelled(signal);
      onProgress(done, of, 'passkey cases', `passkey ${L} tokens, depth ${depth}`);
    },
  });
  return { ...report, adapter };
}

export type RivalsReport = RivalsStudy;

/** Rival patterns (CPU float64) for one head, or every head with `which` null, on the first
 * `maxTokens` tokens, each head at its own setting (rivals-study.ts headRivalOptions: a tokens
 * head's curve sweeps alpha at its rowRatio and windowRatio, a blocks head's blocks curve both
 * alphas at its block size and rowRatio; both SampleAttention rows for every head, as the CLI's).
 * A MInference config adds its fixed per-head pattern (the 'minference' curve), as `rivals --minference`. */
export async function rivalsCapture(c: { numLayers: number; numHeads: number }, cap: QKCapture | QKLayerSource, params: readonly (readonly SettingLike[])[], which: { layer: number; head: number } | null, maxTokens: number, onProgress: CheckProgress, signal?: AbortSignal, minference?: RivalsMInference): Promise<RivalsReport> {
  const { numLayers, numHeads } = c;
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const layers = which ? [which.layer] : all(numLayers);
  const heads = which ? [which.head] : all(numHeads);
  const r = await rivalsStudy(cap, layers, heads, params, maxTokens, {
    onHead: (done, of, layer, head) => {
      throwIfCancelled(signal);
      onProgress(done, of, 'heads', `layer ${layer} head ${head}`);
    },
    between: yieldToUi,
  }, minference);
  onProgress(r.head_curves.length, r.head_curves.length, 'heads', 'done');
  return r;
}
