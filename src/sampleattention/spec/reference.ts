// The float64 reference of SampleAttention (docs/SAMPLEATTENTION.md), every step and measure:
// the studio, the command line and the GPU kernels' tests all compare against these functions.
// The pieces live in small files (params, attention, selection, mask, stats); this file
// re-exports them and composes them into one head's selection (selectHead) and a whole layer's
// with grouped-query attention (selectAll).
//
// Choices the spec leaves to us, pinned here so the GPU kernels and any other port match bit for
// bit where it matters (each is explained where it is implemented):
// - Counts: n = max(1, ceil(rowRatio * S)), w = ceil(windowRatio * S), where a product within 1e-9
//   (relative) of an integer counts as that integer: 0.07 * 100 gives 7, not 8 (params.ts).
// - Mask: the window keeps max(w, 1) diagonals, so the diagonal survives w = 0 (mask.ts).
// - Stage 2: keys by c_j descending, ties by smaller j; the float64 running sum in that order is
//   compared exactly (no tolerance) with alpha * total, total being the same running sum over all
//   keys (= n up to rounding); alpha = 1 keeps exactly the keys with c_j > 0; at least one key is
//   kept (selection.ts).
// - Sums run in ascending index order: dot products over dimensions, softmax sums over j, column
//   scores over the sampled rows (ascending), recall over j (attention.ts, selection.ts).
// - Percentile: nearest rank, the ceil(p/100 * N)-th smallest value, no interpolation (stats.ts).
// - Output error is 0/0 -> the absolute error when the dense output is all zero.

import { defaultScale, denseAttention, rowRecall, sparseAttentionWhere, checkHead, checkKeySet, type Matrix, type MaskPredicate } from './attention';
import { density, inMask, keySetOf } from './mask';
import { DEFAULT_PARAMS, sampledRows, validateParams, windowSize, type SampleParams } from './params';
import { columnScores, selectKeys, type HeadSelection } from './selection';
import { mean, min, percentile } from './stats';

export { DEFAULT_PARAMS, validateParams, sampledRows, windowSize, sampleCount, ceilCount, paramProblem, PARAM_RANGES } from './params';
export type { SampleParams } from './params';
export { attentionRow, denseAttention, sparseAttention, rowRecall, defaultScale, scoreRow } from './attention';
export type { Matrix } from './attention';
export { columnScores, selectKeys } from './selection';
export type { KeySelection, HeadSelection } from './selection';
export { inMask, density, maskCount, keySetOf, effectiveWindow } from './mask';
export { percentile, mean, min } from './stats';

/** One head: stage 1, stage 2, window, measures. q, k (and v) are (S, d) row-major. */
export function selectHead(q: Matrix, k: Matrix, S: number, d: number, params: SampleParams, opts: { head?: number; v?: Matrix; scale?: number } = {}): HeadSelection {
  validateParams(params);
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  const scale = opts.scale ?? defaultScale(d);
  const rows = sampledRows(S, params.rowRatio);
  const scores = columnScores(q, k, S, d, rows, scale);
  const sel = selectKeys(scores, params.alpha, rows.length);
  const w = windowSize(S, params.windowRatio);
  const keySet = keySetOf(sel.keys, S);
  const recall = rowRecall(q, k, S, d, w, keySet, scale);
  const out: HeadSelection = {
    head: opts.head ?? 0,
    sampledRows: rows,
    selectedKeys: sel.keys,
    window: w,
    stage1Estimate: sel.stage1Estimate,
    recallMean: mean(recall),
    recallMin: min(recall),
    recallP5: percentile(recall, 5),
    density: density(S, w, keySet),
  };
  if (opts.v) out.outputError = outputError(q, k, opts.v, S, d, w, keySet, scale);
  return out;
}

/** ||O_sparse - O_dense||_F / ||O_dense||_F in float64 (0 when both are 0). */
export function outputError(q: Matrix, k: Matrix, v: Matrix, S: number, d: number, w: number, keySet: Uint8Array, scale = defaultScale(d)): number {
  checkKeySet(keySet, S);
  return outputErrorWhere(q, k, v, S, d, (i, j) => inMask(i, j, w, keySet), scale);
}

/** The same for any mask predicate (both variants; absolute when O_dense = 0). */
export function outputErrorWhere(q: Matrix, k: Matrix, v: Matrix, S: number, d: number, keep: MaskPredicate, scale = defaultScale(d)): number {
  const dense = denseAttention(q, k, v, S, d, scale).out;
  const sparse = sparseAttentionWhere(q, k, v, S, d, keep, scale);
  let num = 0, den = 0;
  for (let t = 0; t < dense.length; t++) {
    const e = sparse[t] - dense[t];
    num += e * e;
    den += dense[t] * dense[t];
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** The kv head query head h reads: floor(h / (heads / kvHeads)). */
export function kvHeadOf(h: number, heads: number, kvHeads: number): number {
  return Math.floor(h / (heads / kvHeads));
}

/** Head `h` of a (heads, S, d) array as an (S, d) view (no copy for typed arrays). */
export function headView(x: Matrix, h: number, S: number, d: number): Matrix {
  const start = h * S * d;
  const sub = (x as { subarray?: (a: number, b: number) => Matrix }).subarray;
  if (typeof sub === 'function') return sub.call(x, start, start + S * d);
  return Array.prototype.slice.call(x, start, start + S * d) as number[];
}

export function checkGrouping(heads: number, kvHeads: number): void {
  if (!Number.isInteger(heads) || heads < 1) throw new RangeError(`heads must be a positive integer, got ${heads}.`);
  if (!Number.isInteger(kvHeads) || kvHeads < 1) throw new RangeError(`kvHeads must be a positive integer, got ${kvHeads}.`);
  if (heads % kvHeads !== 0) throw new RangeError(`heads (${heads}) is not a multiple of kvHeads (${kvHeads}); grouped-query attention needs each kv head to serve the same number of query heads.`);
}

/**
 * Every query head of a layer: q is (heads, S, d), k (and v) (kvHeads, S, d); query head h reads
 * kv head floor(h / (heads / kvHeads)). `params` is one set for all heads or one per head.
 * `onHead` is called after each head (progress reporting).
 */
export function selectAll(
  q: Matrix,
  k: Matrix,
  heads: number,
  kvHeads: number,
  S: number,
  d: number,
  params: SampleParams | readonly SampleParams[] = DEFAULT_PARAMS,
  opts: { v?: Matrix; scale?: number; onHead?: (sel: HeadSelection, heads: number) => void } = {},
): HeadSelection[] {
  return eachHead(q, k, heads, kvHeads, S, d, params, opts, selectHead);
}

/** The per-head loop of a layer with grouped-query attention, for any variant's one-head
 * selection `one`: checks the sizes and the grouping, gives query head h its (S, d) views of q and
 * of kv head floor(h / (heads / kvHeads)), and one parameter set (shared or per head). */
export function eachHead<P, R>(
  q: Matrix,
  k: Matrix,
  heads: number,
  kvHeads: number,
  S: number,
  d: number,
  params: P | readonly P[],
  opts: { v?: Matrix; scale?: number; onHead?: (sel: R, heads: number) => void },
  one: (q: Matrix, k: Matrix, S: number, d: number, p: P, o: { head: number; scale?: number; v?: Matrix }) => R,
): R[] {
  checkGrouping(heads, kvHeads);
  if (q.length !== heads * S * d) throw new RangeError(`q has ${q.length} values; (heads, S, d) = (${heads}, ${S}, ${d}) needs ${heads * S * d}.`);
  if (k.length !== kvHeads * S * d) throw new RangeError(`k has ${k.length} values; (kvHeads, S, d) = (${kvHeads}, ${S}, ${d}) needs ${kvHeads * S * d}.`);
  if (opts.v && opts.v.length !== kvHeads * S * d) throw new RangeError(`v has ${opts.v.length} values; (kvHeads, S, d) = (${kvHeads}, ${S}, ${d}) needs ${kvHeads * S * d}.`);
  const perHead = Array.isArray(params);
  if (perHead && (params as readonly P[]).length !== heads) {
    throw new RangeError(`got ${(params as readonly P[]).length} per-head parameter sets for ${heads} heads; give one per query head or a single set.`);
  }
  const out: R[] = [];
  for (let h = 0; h < heads; h++) {
    const p = perHead ? (params as readonly P[])[h] : (params as P);
    const g = kvHeadOf(h, heads, kvHeads);
    const sel = one(headView(q, h, S, d), headView(k, g, S, d), S, d, p, { head: h, scale: opts.scale, v: opts.v ? headView(opts.v, g, S, d) : undefined });
    out.push(sel);
    opts.onHead?.(sel, heads);
  }
  return out;
}
