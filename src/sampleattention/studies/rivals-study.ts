// The rival-patterns study, the one home of its head loop: every chosen head of every chosen layer
// gets one recall-vs-density curve per pattern (rivals.ts, CPU float64), then each layer's and the
// model's mean curves. `sa-studio rivals` and the studio's engine both call rivalsStudy, so they
// print the same numbers by construction.
import { kvHeadOf } from '../spec/reference';
import { DEFAULT_PARAMS, type SampleParams } from '../spec/params';
import { asHeadSetting, settingParams, type SettingLike } from '../spec/setting';
import { DEFAULT_RIVALS, headCurves, modelCurves, rivalBlockSize, type RivalCurve, type RivalOptions } from './rivals';
import { checkMInferenceFits, minferenceHead, type MInferenceConfig, type MInferenceHead } from '../formats/minference-file';

/** Post-RoPE q and k of every layer of one text, on the host. */
export interface QKCapture {
  S: number;
  d: number;
  numHeads: number;
  numKvHeads: number;
  /** Per layer: q (heads, S, d) and k (kvHeads, S, d). */
  q: readonly Float32Array[];
  k: readonly Float32Array[];
}

/** The same, read one layer at a time (a capture file): `read(l, T)` gives layer l's q
 * (heads, T, d) and k (kvHeads, T, d) of the first T tokens only, so a long capture's rivals
 * (which use the first tokens) never read the rest. */
export interface QKLayerSource {
  S: number;
  d: number;
  numHeads: number;
  numKvHeads: number;
  numLayers: number;
  read(layer: number, T: number): Promise<{ q: Float32Array; k: Float32Array }>;
}

const isSource = (c: QKCapture | QKLayerSource): c is QKLayerSource => 'read' in c;

/** Layer l's q and k of the first T tokens, with the rows per head of their (rows, d) blocks. */
async function layerQK(cap: QKCapture | QKLayerSource, l: number, T: number): Promise<{ q: Float32Array; k: Float32Array; rows: number }> {
  if (isSource(cap)) return { ...(await cap.read(l, T)), rows: T };
  return { q: cap.q[l], k: cap.k[l], rows: cap.S };
}

export interface RivalsHeadEntry {
  layer: number;
  head: number;
  kvHead: number;
  curves: RivalCurve[];
  /** The MInference file's entry for this head, when one was measured. */
  minference?: MInferenceHead;
}

export interface RivalsStudy {
  /** Tokens the curves were computed on: the first `tokens` of the text (causal, so exact for them). */
  tokens: number;
  /** Of the capture's S. */
  of: number;
  headDim: number;
  layers: number[];
  /** The query heads measured in every chosen layer. */
  heads: number[];
  /** The block size of the `blocks` variant's curve ('sampleattention-blocks') of the heads not
   * of a blocks setting; a blocks head's is its own (its curve's knob names it). */
  blockSize: number;
  /** Mean over every measured head at each knob value (modelCurves). */
  model_curves: RivalCurve[];
  layer_curves: { layer: number; curves: RivalCurve[] }[];
  head_curves: RivalsHeadEntry[];
  seconds: number;
}

/** SampleAttention's alpha sweep: the default alphas plus the operating alpha(s), so the curve
 * holds the operating point itself; rowRatio and windowRatio fixed at the head's. The `blocks`
 * variant sweeps the same alphas (as alphaColumn = alphaSlash) at the same rowRatio. */
export function rivalOptions(p: SampleParams, operatingAlphas: readonly number[] = [p.alpha]): RivalOptions {
  return { alphas: [...new Set([...DEFAULT_RIVALS.alphas, ...operatingAlphas])].sort((a, b) => a - b), rowRatio: p.rowRatio, windowRatio: p.windowRatio };
}

/** One head's options from its own setting (the studio gives each head's current one). A tokens
 * head: as rivalOptions, its blocks curve at the study's block size and the head's rowRatio. A
 * blocks head: its blocks curve at its own block size and rowRatio (its alphas among the swept
 * ones, so with alphaColumn = alphaSlash the curve holds its operating point), its tokens curve
 * at the spec's tokens defaults (it has no tokens parameters of its own). */
export function headRivalOptions(s: SettingLike, operatingAlphas: readonly number[], blockSize: number): RivalOptions {
  const h = asHeadSetting(s);
  if (h.variant === 'tokens') return { ...rivalOptions(settingParams(h), operatingAlphas), blockSize };
  return { ...rivalOptions(DEFAULT_PARAMS, operatingAlphas), blockSize: h.blockSize, blocksRowRatio: h.rowRatio };
}

/** The alphas a head's setting operates at: tokens' alpha, or blocks' alphaColumn and alphaSlash. */
const operatingAlphasOf = (s: SettingLike): number[] => {
  const h = asHeadSetting(s);
  return h.variant === 'tokens' ? [h.alpha] : [h.alphaColumn, h.alphaSlash];
};

export interface RivalsHooks {
  /** Before each head: (heads done, of, layer, head). Throw here to cancel. */
  onHead?: (done: number, of: number, layer: number, head: number) => void;
  /** After each layer: (layer, layers done, of, seconds so far). */
  onLayer?: (layer: number, done: number, of: number, seconds: number) => void;
  /** Awaited after each head (a UI lets its event loop run here). */
  between?: () => Promise<void>;
}

/** A MInference config measured beside the patterns (its fixed per-head pattern, one point per
 * head: the 'minference' curve); `source` names it in errors. */
export interface RivalsMInference { config: MInferenceConfig; source: string }

/** The `blocks` variant's curve: its block size (default: rivalBlockSize of the tokens measured)
 * for every head not of a blocks setting (those use their own). */
export interface RivalsBlocks { blockSize?: number }

/** The curves of `layers` x `heads` on the first `maxTokens` tokens of the capture. `params` is one
 * tokens set for every head (the CLI's) or a setting per head, [layer][head], of either variant
 * (the studio's: each head at its current setting, headRivalOptions); every head sweeps the same
 * alphas (the defaults plus every measured head's operating alphas), so the mean curves are
 * defined. Heads of a blocks setting draw their blocks curve at their own block size. */
export async function rivalsStudy(cap: QKCapture | QKLayerSource, layers: readonly number[], heads: readonly number[], params: SampleParams | readonly (readonly SettingLike[])[], maxTokens = cap.S, hooks: RivalsHooks = {}, mi?: RivalsMInference, blocks: RivalsBlocks = {}): Promise<RivalsStudy> {
  const { S, d, numHeads, numKvHeads } = cap;
  if (mi) checkMInferenceFits(mi.config, isSource(cap) ? cap.numLayers : cap.q.length, layers, heads, mi.source);
  const T = Math.min(S, maxTokens);
  const blockSize = blocks.blockSize ?? rivalBlockSize(T);
  const paramsOf = (l: number, h: number): SettingLike => ('alpha' in params ? params : params[l][h]);
  const alphas = layers.flatMap((l) => heads.flatMap((h) => operatingAlphasOf(paramsOf(l, h))));
  const sizesOf = (ls: readonly number[]) => new Set(ls.flatMap((l) => heads.map((h) => headRivalOptions(paramsOf(l, h), alphas, blockSize).blockSize)));
  const t0 = performance.now();
  const head_curves: RivalsHeadEntry[] = [];
  const layer_curves: { layer: number; curves: RivalCurve[] }[] = [];
  const total = layers.length * heads.length;
  for (let li = 0; li < layers.length; li++) {
    const l = layers[li];
    const mine: RivalCurve[][] = [];
    const qk = await layerQK(cap, l, T);
    const R = qk.rows;
    for (const h of heads) {
      hooks.onHead?.(head_curves.length, total, l, h);
      const g = kvHeadOf(h, numHeads, numKvHeads);
      // Rows 0..T-1 of a head are contiguous at the start of its (R, d) block.
      const q = qk.q.subarray(h * R * d, h * R * d + T * d);
      const k = qk.k.subarray(g * R * d, g * R * d + T * d);
      const minference = mi && minferenceHead(mi.config, l, h, mi.source);
      const curves = headCurves(q, k, T, d, { ...headRivalOptions(paramsOf(l, h), alphas, blockSize), minference });
      mine.push(curves);
      head_curves.push({ layer: l, head: h, kvHead: g, curves, ...(minference ? { minference } : {}) });
      await hooks.between?.();
    }
    layer_curves.push({ layer: l, curves: mixedKnob(modelCurves(mine), sizesOf([l])) });
    hooks.onLayer?.(l, li + 1, layers.length, (performance.now() - t0) / 1000);
  }
  return {
    tokens: T, of: S, headDim: d, layers: [...layers], heads: [...heads], blockSize,
    model_curves: mixedKnob(modelCurves(head_curves.map((e) => e.curves)), sizesOf(layers)),
    layer_curves, head_curves, seconds: (performance.now() - t0) / 1000,
  };
}

/** One head's curves in a study, or undefined where it was not measured. */
export const curvesOf = (r: Pick<RivalsStudy, 'head_curves'>, layer: number, head: number): RivalCurve[] | undefined =>
  r.head_curves.find((e) => e.layer === layer && e.head === head)?.curves;

/** A mean curve's knob names the first head's block size; heads of several block sizes (blocks
 * heads at their own) make the blocks curve's a mean over them, and its knob says so. */
function mixedKnob(curves: RivalCurve[], sizes: ReadonlySet<number | undefined>): RivalCurve[] {
  if (sizes.size <= 1) return curves;
  const list = [...sizes].sort((a, b) => (a ?? 0) - (b ?? 0)).join(', ');
  return curves.map((c) => (c.pattern === 'sampleattention-blocks' ? { ...c, knob: `alpha, column = slash (blocks ${list}, each head's)` } : c));
}
