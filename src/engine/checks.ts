// The studio's model-wide checks (issue 7), run by the engine on what it already holds: the
// captured q/k of the current text (auto-tune, rival patterns) and the built model (the
// near-lossless check). The measures are the library's (src/sampleattention/studies/tune.ts, eval.ts, rivals.ts),
// the same functions the command line calls, so the studio and `sa-studio tune|eval` agree.
import type { GpuContext } from '../../gpu/device';
import type { Checkpoint } from '../model/loader/checkpoint';
import { forward, type Model } from '../model/forward';
import type { HeadMeasures } from '../sampleattention/formats/config-file';
import { checkText, passkeySuite, type ForwardFn, type PasskeyAccuracy, type SparseFactory, type TextCheck } from '../sampleattention/studies/near-lossless';
import type { PasskeyResult } from '../sampleattention/studies/near-lossless';
import { sampleAttentionOverride } from '../sampleattention/gpu-run/model-attention';
import type { SampleParams } from '../sampleattention/spec/params';
import { headCurves, modelCurves, type RivalCurve } from '../sampleattention/studies/rivals';
import { checkRule, gridPoints, tuneLayer, type HeadChoice, type TuneGrid, type TuneRule } from '../sampleattention/studies/tune';
import { throwIfCancelled } from './cancel';
import type { Capture } from './forward-port';

/** (done, total, unit, what): progress of a long check. */
export type CheckProgress = (done: number, total: number, unit: string, what: string) => void;

export interface TuneReport {
  rule: TuneRule;
  grid: TuneGrid;
  tokens: number;
  /** [layer][head]: the chosen setting and whether it met the rule. */
  choices: HeadChoice[][];
  /** [layer][head]: the chosen setting's measures on this text. */
  measured: HeadMeasures[][];
}

const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));

export async function tuneCapture(ctx: GpuContext, cp: Checkpoint, cap: Capture, S: number, rule: TuneRule, grid: TuneGrid, onProgress: CheckProgress, signal?: AbortSignal): Promise<TuneReport> {
  checkRule(rule);
  const points = gridPoints(grid);
  const { numLayers, numHeads, numKvHeads, headDim } = cp.config;
  const shape = { heads: numHeads, kvHeads: numKvHeads, headDim };
  const choices: HeadChoice[][] = [];
  const measured: HeadMeasures[][] = [];
  const total = numLayers * points.length;
  for (let l = 0; l < numLayers; l++) {
    const r = await tuneLayer(ctx, shape, [{ S, q: cap.q[l], k: cap.k[l] }], points, rule, (_, done) => {
      throwIfCancelled(signal);
      onProgress(l * points.length + done, total, 'grid points', `layer ${l + 1} of ${numLayers}`);
    });
    choices.push(r.choices);
    measured.push(r.measured[0]);
  }
  return { rule, grid, tokens: S, choices, measured };
}

export interface CheckReport {
  text: TextCheck;
  /** Cases in the plan's order: lengths outermost, then depths. */
  passkey: PasskeyResult[];
  plan: PasskeyPlan | null;
  passkeyAccuracy?: PasskeyAccuracy;
  adapter: string;
}

export interface PasskeyPlan {
  lengths: number[];
  depths: number[];
}

/** Dense vs SampleAttention (per-head `params`) on the current text's ids, and passkey cases. */
export async function nearLosslessCheck(ctx: GpuContext, model: Model, cp: Checkpoint, ids: Int32Array, params: SampleParams[][], passkey: PasskeyPlan | null, adapter: string, onProgress: CheckProgress, signal?: AbortSignal): Promise<CheckReport> {
  const c = cp.config;
  for (const L of passkey?.lengths ?? []) {
    if (!Number.isInteger(L) || L < 32 || L > c.maxPositions) throw new RangeError(`passkey length ${L}: give whole numbers of tokens from 32 to the model's ${c.maxPositions} positions.`);
  }
  for (const d of passkey?.depths ?? []) if (!(d >= 0 && d <= 1)) throw new RangeError(`passkey depth ${d}: depths lie in [0, 1].`);
  const shape = { heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim };
  let phase = '';
  let step = 0;
  // Each forward pass reports its layers; cancelling throws between layers (the pass frees its buffers).
  const fwd: ForwardFn = (x, o) => forward(model, x, {
    ...o,
    onProgress: (done, of) => {
      throwIfCancelled(signal);
      if (phase !== 'passkey') onProgress(step * of + done, 2 * of, 'layers', phase); // dense, then sparse
    },
  });
  const sparse: SparseFactory = (onLayer) => sampleAttentionOverride(ctx, shape, params, onLayer);
  const text = await checkText(fwd, ids, c.vocabSize, sparse, (pass) => {
    phase = `${pass} pass over ${ids.length} tokens`;
    step = pass === 'dense' ? 0 : 1;
  });
  await yieldNow();
  phase = 'passkey';
  const suite = passkey
    ? await passkeySuite(fwd, cp.tokenizer, c.vocabSize, passkey.lengths, passkey.depths, sparse, (done, of, L, depth) => {
      throwIfCancelled(signal);
      onProgress(done, of, 'passkey cases', `passkey ${L} tokens, depth ${depth}`);
    })
    : { cases: [] };
  return { text, passkey: suite.cases, plan: passkey, passkeyAccuracy: suite.accuracy, adapter };
}

export interface RivalsReport {
  /** Tokens the curves were computed on: the first `tokens` of the text (causal, so exact for them). */
  tokens: number;
  /** Of the text's S. */
  of: number;
  /** [layer][head] curves, for the heads computed (null where not). */
  perHead: (RivalCurve[] | null)[][];
  /** Mean over the computed heads; null with one head. */
  model: RivalCurve[] | null;
}

/** Rival patterns (CPU float64) for one head, or every head with `head` null, on the first
 * `maxTokens` tokens; SampleAttention's curve sweeps alpha at each head's rowRatio and windowRatio. */
export async function rivalsCapture(cp: Checkpoint, cap: Capture, S: number, params: SampleParams[][], which: { layer: number; head: number } | null, maxTokens: number, onProgress: CheckProgress, signal?: AbortSignal): Promise<RivalsReport> {
  const { numLayers, numHeads, numKvHeads, headDim: d } = cp.config;
  const T = Math.min(S, maxTokens);
  const heads = which ? [which] : Array.from({ length: numLayers * numHeads }, (_, i) => ({ layer: Math.floor(i / numHeads), head: i % numHeads }));
  const perHead: (RivalCurve[] | null)[][] = Array.from({ length: numLayers }, () => Array.from({ length: numHeads }, () => null));
  const all: RivalCurve[][] = [];
  for (let n = 0; n < heads.length; n++) {
    const { layer, head } = heads[n];
    throwIfCancelled(signal);
    onProgress(n, heads.length, 'heads', `layer ${layer} head ${head}`);
    const g = Math.floor(head / (numHeads / numKvHeads));
    // Rows 0..T-1 of a head are contiguous at the start of its (S, d) block.
    const q = cap.q[layer].subarray(head * S * d, head * S * d + T * d);
    const k = cap.k[layer].subarray(g * S * d, g * S * d + T * d);
    const p = params[layer][head];
    const curves = headCurves(q, k, T, d, { rowRatio: p.rowRatio, windowRatio: p.windowRatio });
    perHead[layer][head] = curves;
    all.push(curves);
    await yieldNow();
  }
  onProgress(heads.length, heads.length, 'heads', 'done');
  return { tokens: T, of: S, perHead, model: heads.length > 1 ? modelCurves(all) : null };
}
