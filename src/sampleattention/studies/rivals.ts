// SampleAttention and its rivals on the same head, with the same measures as the reference
// (src/sampleattention/spec/reference.ts): row recall R_i = sum of the FULL softmax P over the kept entries of
// row i (mean, min, nearest-rank P5 over rows) and density = kept entries / (S (S + 1) / 2). Each
// pattern's knob is swept to give (density, recall) points: a recall-vs-density curve per head,
// and per model (the mean over heads at each knob value). The masks are built in rivals-masks.ts.
//
// SampleAttention runs as both its variants (docs/SAMPLEATTENTION.md): 'sampleattention' is the
// `tokens` variant (column keys + local window), 'sampleattention-blocks' the `blocks` variant
// (column blocks + slash bands), each through its own float64 reference's selection; the blocks
// curve sweeps alphaColumn = alphaSlash over the same alphas as the tokens curve, at one rowRatio.
//
// The oracle keeps the T largest entries of P over the whole causal map. Mean recall is
// (kept mass) / S, so for a budget of T entries no mask can keep more: it is the best any mask of
// that density can do (each row keeps its own largest entries, the row budgets set by one global
// threshold). Every other pattern's point lies on or below it.
import { defaultScale, type Matrix } from '../spec/attention';
import { columnScores, selectKeys } from '../spec/selection';
import { DEFAULT_PARAMS, sampledRows, windowSize } from '../spec/params';
import { effectiveWindow } from '../spec/mask';
import { percentile } from '../spec/stats';
import { blocksParamProblem, blocksSampledRows, DEFAULT_BLOCKS_PARAMS } from '../spec/blocks/params';
import { selectBlocks, stripScores, type StripScores } from '../spec/blocks/selection';
import { blocksMask, blocksPredicate } from '../spec/blocks/mask';
import {
  blockMask, blockScores, causalAttention, causalCount, entryIndex, estimateVerticalSlash, minferenceMask, MINFERENCE_RUNTIME, streamingMask, verticalSlashMask,
  type BlockScoring,
} from './rivals-masks';
import type { MInferenceHead } from '../formats/minference-file';

export { causalAttention, streamingMask, verticalSlashMask, minferenceMask, estimateVerticalSlash, blockScores, blockMask, causalCount, entryIndex } from './rivals-masks';

/** 'sampleattention' is the `tokens` variant, 'sampleattention-blocks' the `blocks` variant.
 * 'minference' is a MInference config file's fixed pattern: one point per head, present only
 * when a file is given. */
export type PatternName = 'sampleattention' | 'sampleattention-blocks' | 'streamingllm' | 'vertical-slash' | 'block-topk' | 'oracle' | 'minference';

export interface CurvePoint {
  /** The knob's value at this point (see RivalCurve.knob). */
  knob: number;
  density: number;
  recallMean: number;
  recallMin: number;
  recallP5: number;
}

export interface RivalCurve {
  pattern: PatternName;
  /** What the knob is: "alpha", "window (keys)", "lines per kind", "tau", "density". */
  knob: string;
  points: CurvePoint[];
}

/** Recall per row and density of a mask (entry order, see rivals-masks.ts) against the full P. */
export function measureMask(P: Float64Array, S: number, kept: Uint8Array, knob = 0): CurvePoint {
  const N = causalCount(S);
  if (P.length !== N || kept.length !== N) throw new RangeError(`measureMask: P has ${P.length} and the mask ${kept.length} entries; S = ${S} needs S (S + 1) / 2 = ${N}.`);
  const recall = new Float64Array(S);
  let count = 0;
  for (let i = 0; i < S; i++) {
    const o = entryIndex(i, 0);
    let r = 0;
    // Ascending j, as the reference's rowRecall.
    for (let j = 0; j <= i; j++) if (kept[o + j]) { r += P[o + j]; count++; }
    recall[i] = r;
  }
  let sum = 0, mn = Infinity;
  for (const r of recall) { sum += r; if (r < mn) mn = r; }
  return { knob, density: count / N, recallMean: sum / S, recallMin: mn, recallP5: percentile(recall, 5) };
}

/** Entries of P by value descending (ties: entry order), for the oracle at any budget. */
export function oracleOrder(P: Float64Array): Uint32Array {
  const idx = new Uint32Array(P.length);
  for (let e = 0; e < idx.length; e++) idx[e] = e;
  return idx.sort((a, b) => P[b] - P[a] || a - b);
}

/** The oracle mask with `count` entries: the largest of P. */
export function oracleMask(order: Uint32Array, count: number): Uint8Array {
  if (!(Number.isInteger(count) && count >= 1 && count <= order.length)) throw new RangeError(`oracleMask: count must be an integer in 1..${order.length}, got ${count}.`);
  const m = new Uint8Array(order.length);
  for (let t = 0; t < count; t++) m[order[t]] = 1;
  return m;
}

/** The kept count for a density: ceil(density * N), at least 1. */
export const countForDensity = (S: number, density: number) => Math.min(causalCount(S), Math.max(1, Math.ceil(density * causalCount(S) - 1e-9)));

/** SampleAttention's mask (docs/SAMPLEATTENTION.md steps 1-8) as an entry mask. */
export function sampleAttentionMask(q: Matrix, k: Matrix, S: number, d: number, scale: number, alpha: number, rowRatio: number, windowRatio: number): Uint8Array {
  const rows = sampledRows(S, rowRatio);
  const sel = selectKeys(columnScores(q, k, S, d, rows, scale), alpha, rows.length);
  const keySet = new Uint8Array(S);
  for (const j of sel.keys) keySet[j] = 1;
  const we = effectiveWindow(windowSize(S, windowRatio));
  const m = new Uint8Array(causalCount(S));
  for (let i = 0; i < S; i++) {
    const o = entryIndex(i, 0);
    for (let j = 0; j <= i; j++) if (i - j < we || keySet[j]) m[o + j] = 1;
  }
  return m;
}

/** The `blocks` variant's mask (docs/SAMPLEATTENTION.md, "Variant `blocks`", steps 5-6) as an
 * entry mask, from its stage-1 strip scores (`scores` of `rowCount` sampled rows at block size b):
 * the spec's own stage 2 (selectBlocks) and mask rule (blocksPredicate). */
export function sampleBlocksMask(S: number, b: number, scores: StripScores, rowCount: number, alphaColumn: number, alphaSlash: number): Uint8Array {
  const { column, slash } = selectBlocks(scores, alphaColumn, alphaSlash, rowCount);
  const keep = blocksPredicate(blocksMask(S, b, column.kept, slash.kept));
  const m = new Uint8Array(causalCount(S));
  for (let i = 0; i < S; i++) {
    const o = entryIndex(i, 0);
    for (let j = 0; j <= i; j++) if (keep(i, j)) m[o + j] = 1;
  }
  return m;
}

/** The fewest key blocks the blocks rival's default block size leaves a text (ours). */
export const MIN_RIVAL_BLOCKS = 8;

/**
 * The blocks rival's block size for S tokens when none is given (ours): the spec's default 128,
 * halved while it would leave fewer than MIN_RIVAL_BLOCKS = 8 key blocks (b * 8 > S), down to 1.
 * So 128 from S = 1024 up, 64 at S = 512..1023, 4 at S = 48. Why: at b = 128 a text of a few
 * hundred tokens is two or three blocks, every alpha keeps almost the whole map and the curve
 * says nothing; powers of two as the spec's short-text sizes (16, 32, 64).
 */
export function rivalBlockSize(S: number): number {
  let b = DEFAULT_BLOCKS_PARAMS.blockSize;
  while (b > 1 && b * MIN_RIVAL_BLOCKS > S) b /= 2;
  return b;
}

/** The alpha (alphaColumn = alphaSlash) of the blocks rival's operating point: the spec's
 * defaults for the variant (both 0.95), always in the default sweep. */
export const BLOCKS_RIVAL_ALPHA = DEFAULT_BLOCKS_PARAMS.alphaColumn;

/** The knob text of the 'sampleattention-blocks' curve at block size b. */
export const blocksKnob = (b: number) => `alpha, column = slash (block ${b})`;

export interface RivalOptions {
  scale?: number;
  /** SampleAttention: alphas swept with rowRatio and windowRatio fixed (defaults: the spec's). */
  alphas?: number[];
  rowRatio?: number;
  windowRatio?: number;
  /** SampleAttention `blocks`: block size (default rivalBlockSize(S)); it sweeps `alphas` as
   * alphaColumn = alphaSlash at `blocksRowRatio` (default: `rowRatio`). */
  blockSize?: number;
  blocksRowRatio?: number;
  /** StreamingLLM: sink keys (default 4) and windows as shares of S. */
  sinks?: number;
  windowShares?: number[];
  /** MInference: queries used for the estimate (default 64) and lines per kind as shares of S. */
  lastQ?: number;
  lineShares?: number[];
  /** Block top-k: block size (default 16), scoring, antidiagonal stride (default 8), thresholds. */
  block?: number;
  blockScoring?: BlockScoring;
  stride?: number;
  taus?: number[];
  /** Oracle: densities. */
  densities?: number[];
  /** A MInference config's entry for this head: adds its fixed pattern as the 'minference' curve. */
  minference?: MInferenceHead;
}

/** The knob text of the 'minference' curve: nothing is swept, the file fixes the sizes. */
export const MINFERENCE_KNOB = 'none: the file\'s sizes';

export const DEFAULT_RIVALS = {
  alphas: [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1],
  windowShares: [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1],
  lineShares: [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 1],
  taus: [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1],
  densities: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1],
} as const;

/** Every pattern's curve for one head: q, k (S, d) row-major. */
export function headCurves(q: Matrix, k: Matrix, S: number, d: number, o: RivalOptions = {}): RivalCurve[] {
  const scale = o.scale ?? defaultScale(d);
  const P = causalAttention(q, k, S, d, scale);
  const sweep = <T extends number>(xs: readonly T[], mask: (x: T) => Uint8Array) => xs.map((x) => measureMask(P, S, mask(x), x));
  const rowRatio = o.rowRatio ?? DEFAULT_PARAMS.rowRatio, windowRatio = o.windowRatio ?? DEFAULT_PARAMS.windowRatio;
  const alphas = o.alphas ?? DEFAULT_RIVALS.alphas;
  const b = o.blockSize ?? rivalBlockSize(S);
  const bad = blocksParamProblem('blockSize', b);
  if (bad) throw new RangeError(`headCurves: blockSize ${bad}.`);
  // Stage 1 of the blocks variant does not depend on alpha: scored once, selected per alpha.
  const bRows = blocksSampledRows(S, b, o.blocksRowRatio ?? rowRatio);
  const strips = stripScores(q, k, S, d, b, bRows, scale);
  const sinks = Math.min(o.sinks ?? 4, S);
  const est = estimateVerticalSlash(P, S, o.lastQ ?? 64);
  const bs = blockScores(P, q, k, S, d, scale, o.block ?? 16, o.blockScoring ?? 'antidiagonal', o.stride ?? 8);
  const order = oracleOrder(P);
  const windows = [...new Set((o.windowShares ?? DEFAULT_RIVALS.windowShares).map((x) => Math.round(x * S)))];
  const lines = [...new Set((o.lineShares ?? DEFAULT_RIVALS.lineShares).map((x) => Math.round(x * S)))];
  return [
    { pattern: 'sampleattention', knob: 'alpha', points: sweep(alphas, (a) => sampleAttentionMask(q, k, S, d, scale, a, rowRatio, windowRatio)) },
    { pattern: 'sampleattention-blocks', knob: blocksKnob(b), points: sweep(alphas, (a) => sampleBlocksMask(S, b, strips, bRows.length, a, a)) },
    { pattern: 'streamingllm', knob: `window (keys; ${sinks} sinks)`, points: sweep(windows, (w) => streamingMask(S, sinks, w)) },
    { pattern: 'vertical-slash', knob: 'lines per kind', points: sweep(lines, (n) => verticalSlashMask(S, est, n)) },
    { pattern: 'block-topk', knob: `tau (block ${bs.block}, ${o.blockScoring ?? 'antidiagonal'})`, points: sweep(o.taus ?? DEFAULT_RIVALS.taus, (t) => blockMask(S, bs, t)) },
    { pattern: 'oracle', knob: 'density', points: sweep(o.densities ?? DEFAULT_RIVALS.densities, (x) => oracleMask(order, countForDensity(S, x))) },
    ...(o.minference ? [minferenceCurve(P, S, o.minference, (o.lastQ ?? 64) === MINFERENCE_RUNTIME.lastQ ? est : undefined)] : []),
  ];
}

/** A MInference config head's one point. Its kernel estimates from its own last 64 queries,
 * whatever lastQ the density rival was given; `est` is reused when it is that estimate. */
function minferenceCurve(P: Float64Array, S: number, head: MInferenceHead, est = estimateVerticalSlash(P, S, MINFERENCE_RUNTIME.lastQ)): RivalCurve {
  return { pattern: 'minference', knob: MINFERENCE_KNOB, points: [measureMask(P, S, minferenceMask(S, est, head), 0)] };
}

/** The model's curve per pattern: at each knob value, the mean over heads of density and mean
 * recall, the minimum of the row minima and the mean of the P5s. All heads must share the sweep. */
export function modelCurves(perHead: readonly (readonly RivalCurve[])[]): RivalCurve[] {
  if (perHead.length === 0) throw new RangeError('modelCurves: no heads.');
  return perHead[0].map((c, p) => {
    const all = perHead.map((h) => h[p]);
    for (const x of all) if (x.pattern !== c.pattern || x.points.length !== c.points.length) throw new RangeError(`modelCurves: heads disagree on the ${c.pattern} sweep; give every head the same options.`);
    const n = all.length;
    return {
      pattern: c.pattern,
      knob: c.knob,
      points: c.points.map((pt, t) => ({
        knob: pt.knob,
        density: all.reduce((a, x) => a + x.points[t].density, 0) / n,
        recallMean: all.reduce((a, x) => a + x.points[t].recallMean, 0) / n,
        recallMin: Math.min(...all.map((x) => x.points[t].recallMin)),
        recallP5: all.reduce((a, x) => a + x.points[t].recallP5, 0) / n,
      })),
    };
  });
}

/** Mean recall of a curve at a density, by linear interpolation between its points sorted by
 * density: for tables that compare patterns at equal density. NaN below the curve's sparsest
 * point (the sweep never got that sparse: no honest value); above its densest point, that point's. */
export function recallAtDensity(curve: RivalCurve, density: number): number {
  const pts = [...curve.points].sort((a, b) => a.density - b.density);
  if (density < pts[0].density) return NaN;
  for (let t = 1; t < pts.length; t++) {
    if (density <= pts[t].density) {
      const a = pts[t - 1], b = pts[t];
      const f = b.density === a.density ? 1 : (density - a.density) / (b.density - a.density);
      return a.recallMean + f * (b.recallMean - a.recallMean);
    }
  }
  return pts[pts.length - 1].recallMean;
}
