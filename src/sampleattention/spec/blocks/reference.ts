// The float64 reference of the `blocks` variant (docs/SAMPLEATTENTION.md, "Variant `blocks`"):
// one head's selection and measures (selectHeadBlocks) and a layer's with grouped-query attention
// (selectAllBlocks). The pieces live in params.ts, selection.ts and mask.ts of this folder; the
// attention itself (full softmax rows, recall, sparse output) is the `tokens` variant's
// (../attention.ts), given this variant's mask as a predicate.
//
// Choices the spec leaves open (ours), each explained where it is implemented:
// - n = max(1, ceil(rowRatio * S / b)) with params.ts's near-integer rule for the ceil (params.ts).
// - blockSize is an integer in [1, 65536] (params.ts).
// - Stage 2 for both kinds is selectKeys's exact rule (selection.ts); band 0 is taken first and
//   counts towards alphaSlash, so the bands are the fewest that contain band 0 (selection.ts).
// - stage1SlashEstimate includes band 0's score (it is one of the kept bands).
// - Recall, percentile and output error are those of the `tokens` reference (nearest-rank P5).
import { checkHead, defaultScale, denseAttention, rowRecallWhere, sparseAttentionWhere, type Matrix, type MaskPredicate } from '../attention';
import { eachHead, outputErrorWhere } from '../reference';
export { outputErrorWhere } from '../reference';
import { mean, min, percentile } from '../stats';
import { blocksDensity, blocksMask, blocksPredicate } from './mask';
import { blocksSampledRows, DEFAULT_BLOCKS_PARAMS, validateBlocksParams, type BlocksParams } from './params';
import { selectBlocks, stripScores } from './selection';

export interface BlocksHeadSelection {
  head: number;
  blockSize: number;
  /** R: the last min(b, length) rows of each segment, ascending. */
  sampledRows: number[];
  /** I_C, ascending. */
  columnBlocks: number[];
  /** I_S, ascending; always starts with band 0. */
  slashBands: number[];
  /** Mean, minimum and nearest-rank 5th percentile of R_i over all S rows. */
  recallMean: number;
  recallMin: number;
  recallP5: number;
  density: number;
  /** Sum of C_J over I_C / |R| (>= alphaColumn up to ~1e-15). */
  stage1ColumnEstimate: number;
  /** Sum of D_o over I_S / |R| (>= alphaSlash up to ~1e-15). */
  stage1SlashEstimate: number;
  /** ||O_sparse - O_dense||_F / ||O_dense||_F, only when v was given. */
  outputError?: number;
}

/** One head: stage 1, stage 2 (both kinds), mask, measures. q, k (and v) are (S, d) row-major. */
export function selectHeadBlocks(q: Matrix, k: Matrix, S: number, d: number, params: BlocksParams, opts: { head?: number; v?: Matrix; scale?: number } = {}): BlocksHeadSelection {
  validateBlocksParams(params);
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  const scale = opts.scale ?? defaultScale(d);
  const b = params.blockSize;
  const rows = blocksSampledRows(S, b, params.rowRatio);
  const scores = stripScores(q, k, S, d, b, rows, scale);
  const { column: col, slash: sl } = selectBlocks(scores, params.alphaColumn, params.alphaSlash, rows.length);
  const mask = blocksMask(S, b, col.kept, sl.kept);
  const keep = blocksPredicate(mask);
  const recall = rowRecallWhere(q, k, S, d, keep, scale);
  const out: BlocksHeadSelection = {
    head: opts.head ?? 0,
    blockSize: b,
    sampledRows: rows,
    columnBlocks: col.kept,
    slashBands: sl.kept,
    recallMean: mean(recall),
    recallMin: min(recall),
    recallP5: percentile(recall, 5),
    density: blocksDensity(mask),
    stage1ColumnEstimate: col.stage1Estimate,
    stage1SlashEstimate: sl.stage1Estimate,
  };
  if (opts.v) out.outputError = outputErrorWhere(q, k, opts.v, S, d, keep, scale);
  return out;
}


/**
 * Every query head of a layer, as reference.ts selectAll: q is (heads, S, d), k (and v)
 * (kvHeads, S, d); query head h reads kv head floor(h / (heads / kvHeads)). `params` is one set
 * for all heads or one per head; `onHead` is called after each head (progress reporting).
 */
export function selectAllBlocks(q: Matrix, k: Matrix, heads: number, kvHeads: number, S: number, d: number, params: BlocksParams | readonly BlocksParams[] = DEFAULT_BLOCKS_PARAMS, opts: { v?: Matrix; scale?: number; onHead?: (sel: BlocksHeadSelection, heads: number) => void } = {}): BlocksHeadSelection[] {
  return eachHead(q, k, heads, kvHeads, S, d, params, opts, selectHeadBlocks);
}
