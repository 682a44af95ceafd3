// Rival sparse-attention patterns as masks over one head's causal map, in float64, each built the
// way its paper builds it from what it can see at prefill time:
// - StreamingLLM (Xiao et al. 2023): the first `sinks` keys plus a local window.
// - MInference's vertical-slash (Jiang et al. 2024): the last block of queries estimates which key
//   columns (verticals) and which diagonals (slashes, offset i - j) carry the mass; keep the top ones.
// - Block top-k in the style of XAttention / FlexPrefill: block-sparse; blocks scored by their
//   antidiagonal-sampled attention mass (XAttention) or by pooled q.k (FlexPrefill / MoBA), and each
//   query block keeps its best key blocks until a cumulative share `tau` of the block scores.
// - The oracle: the largest T entries of the full P (see rivals.ts).
// - A MInference config file's fixed per-head sizes (formats/minference-file.ts), run as its
//   kernels run them (minferenceMask).
//
// A mask is a Uint8Array over the causal entries in row order: entry (i, j), j <= i, sits at
// i (i + 1) / 2 + j, so N = S (S + 1) / 2 entries. Every pattern keeps the diagonal (as
// SampleAttention does), so each row attends to at least one key.
import { scoreRow, type Matrix } from '../spec/attention';

export const entryIndex = (i: number, j: number) => (i * (i + 1)) / 2 + j;
export const causalCount = (S: number) => (S * (S + 1)) / 2;

/** The full causal softmax P of one head, flat in entry order (float64). */
export function causalAttention(q: Matrix, k: Matrix, S: number, d: number, scale: number): Float64Array {
  const P = new Float64Array(causalCount(S));
  for (let i = 0; i < S; i++) {
    const s = scoreRow(q, k, d, i, scale);
    let m = -Infinity;
    for (let j = 0; j <= i; j++) if (s[j] > m) m = s[j];
    let z = 0;
    for (let j = 0; j <= i; j++) z += (s[j] = Math.exp(s[j] - m));
    const o = entryIndex(i, 0);
    for (let j = 0; j <= i; j++) P[o + j] = s[j] / z;
  }
  return P;
}

function maskFrom(S: number, keep: (i: number, j: number) => boolean): Uint8Array {
  const m = new Uint8Array(causalCount(S));
  for (let i = 0; i < S; i++) {
    const o = entryIndex(i, 0);
    for (let j = 0; j <= i; j++) if (j === i || keep(i, j)) m[o + j] = 1;
  }
  return m;
}

/** StreamingLLM: keys j < sinks, and the window i - j < max(window, 1). */
export function streamingMask(S: number, sinks: number, window: number): Uint8Array {
  if (!(Number.isInteger(sinks) && sinks >= 0)) throw new RangeError(`streamingMask: sinks must be a non-negative integer, got ${sinks}.`);
  if (!(Number.isInteger(window) && window >= 0)) throw new RangeError(`streamingMask: window must be a non-negative integer, got ${window}.`);
  const w = Math.max(window, 1);
  return maskFrom(S, (i, j) => j < sinks || i - j < w);
}

export interface VerticalSlashEstimate {
  /** v_j: mass of key column j over the last `lastQ` rows. */
  vertical: Float64Array;
  /** s_o: mass of diagonal offset o = i - j over the last `lastQ` rows. */
  slash: Float64Array;
  /** Columns by v_j descending (ties: smaller j), diagonals by s_o descending (ties: smaller o). */
  columnOrder: number[];
  slashOrder: number[];
}

/** MInference's estimate: the exact attention of the last `lastQ` queries (its last_q = 64). */
export function estimateVerticalSlash(P: Float64Array, S: number, lastQ = 64): VerticalSlashEstimate {
  const vertical = new Float64Array(S);
  const slash = new Float64Array(S);
  for (let i = Math.max(0, S - lastQ); i < S; i++) {
    const o = entryIndex(i, 0);
    for (let j = 0; j <= i; j++) {
      vertical[j] += P[o + j];
      slash[i - j] += P[o + j];
    }
  }
  const order = (x: Float64Array) => Array.from(x.keys()).sort((a, b) => x[b] - x[a] || a - b);
  return { vertical, slash, columnOrder: order(vertical), slashOrder: order(slash) };
}

/** Lines of one kind: the first `forced` (columns 0.., or the most recent diagonals 0..), then the
 * top of `order`; `budget` lines in all when `inBudget` (MInference's top-k over scores with the
 * forced ones set to +inf), else `budget` top lines on top of the forced ones. */
function pickLines(order: readonly number[], S: number, budget: number, forced: number, inBudget: boolean): Uint8Array {
  const on = new Uint8Array(S);
  const f = Math.min(forced, S);
  for (let t = 0; t < f; t++) on[t] = 1;
  if (!inBudget) {
    for (let t = 0; t < Math.min(budget, S); t++) on[order[t]] = 1;
    return on;
  }
  let n = f;
  for (const x of order) {
    if (n >= budget) break;
    if (!on[x]) { on[x] = 1; n++; }
  }
  return on;
}

const linesMask = (S: number, col: Uint8Array, diag: Uint8Array) => maskFrom(S, (i, j) => col[j] === 1 || diag[i - j] === 1);

/** The top `lines` columns and top `lines` diagonals (column 0 and the diagonal always, as
 * MInference forces the first columns and the most recent diagonals): the rival at a density. */
export function verticalSlashMask(S: number, est: VerticalSlashEstimate, lines: number): Uint8Array {
  if (!(Number.isInteger(lines) && lines >= 0)) throw new RangeError(`verticalSlashMask: lines must be a non-negative integer, got ${lines}.`);
  return linesMask(S, pickLines(est.columnOrder, S, lines, 1, false), pickLines(est.slashOrder, S, lines, 1, false));
}

/** What MInference's vertical_and_slash kernel does with a config's sizes at run time
 * (minference/modules/minference_forward.py): vertical_size = min(S, max(v, 30)) and
 * slash_size = min(S, max(s, 50)); the first 30 columns and the 30 most recent diagonals are set
 * to +inf before the top-k, so they are kept inside those budgets. */
export const MINFERENCE_RUNTIME = { minVertical: 30, minSlash: 50, forcedColumns: 30, forcedDiagonals: 30, lastQ: 64 } as const;

/** A MInference config head's fixed pattern: vertical_and_slash as its kernel runs it (above), or
 * stream_llm as its streaming kernel: vertical_size sink keys and a slash_size local window. */
export function minferenceMask(S: number, est: VerticalSlashEstimate, head: { pattern: string; verticalSize: number; slashSize: number }): Uint8Array {
  const { verticalSize: v, slashSize: s } = head;
  if (!(Number.isInteger(v) && v >= 0 && Number.isInteger(s) && s >= 0)) throw new RangeError(`minferenceMask: sizes must be non-negative integers, got ${v} and ${s}.`);
  if (head.pattern === 'stream_llm') return streamingMask(S, v, s);
  if (head.pattern !== 'vertical_and_slash') throw new RangeError(`minferenceMask: pattern ${head.pattern} has no fixed per-head mask.`);
  const R = MINFERENCE_RUNTIME;
  const cols = pickLines(est.columnOrder, S, Math.min(S, Math.max(v, R.minVertical)), R.forcedColumns, true);
  const diags = pickLines(est.slashOrder, S, Math.min(S, Math.max(s, R.minSlash)), R.forcedDiagonals, true);
  return linesMask(S, cols, diags);
}

export type BlockScoring = 'antidiagonal' | 'pooled';

export interface BlockScores {
  block: number;
  blocks: number;
  /** score[I * blocks + J] for J <= I, normalised so each query block's scores sum to 1. */
  share: Float64Array;
}

/**
 * Block scores. 'antidiagonal' (XAttention): the sum of P over the entries of block (I, J) on every
 * `stride`-th antidiagonal (a + b = stride - 1 mod stride, with a, b the offsets inside the block),
 * a cheap sample that meets every row and column of the block. 'pooled' (FlexPrefill / MoBA): the
 * softmax over J <= I of scale * mean(q of block I) . mean(k of block J).
 */
export function blockScores(P: Float64Array, q: Matrix, k: Matrix, S: number, d: number, scale: number, block: number, scoring: BlockScoring, stride = 8): BlockScores {
  if (!(Number.isInteger(block) && block >= 1)) throw new RangeError(`blockScores: block must be a positive integer, got ${block}.`);
  const nb = Math.ceil(S / block);
  const share = new Float64Array(nb * nb);
  if (scoring === 'antidiagonal') {
    for (let i = 0; i < S; i++) {
      const I = Math.floor(i / block), a = i - I * block, o = entryIndex(i, 0);
      for (let j = 0; j <= i; j++) {
        const J = Math.floor(j / block), b = j - J * block;
        if ((a + b) % stride === stride - 1) share[I * nb + J] += P[o + j];
      }
    }
  } else {
    const pool = (x: Matrix, B: number) => {
      const out = new Float64Array(d);
      const lo = B * block, hi = Math.min(S, lo + block);
      for (let r = lo; r < hi; r++) for (let t = 0; t < d; t++) out[t] += x[r * d + t] / (hi - lo);
      return out;
    };
    const kp = Array.from({ length: nb }, (_, B) => pool(k, B));
    for (let I = 0; I < nb; I++) {
      const qp = pool(q, I);
      const s = kp.slice(0, I + 1).map((kb) => scale * kb.reduce((acc, x, t) => acc + x * qp[t], 0));
      const m = Math.max(...s);
      s.forEach((x, J) => (share[I * nb + J] = Math.exp(x - m)));
    }
  }
  for (let I = 0; I < nb; I++) {
    let z = 0;
    for (let J = 0; J <= I; J++) z += share[I * nb + J];
    if (z > 0) for (let J = 0; J <= I; J++) share[I * nb + J] /= z;
  }
  return { block, blocks: nb, share };
}

/** Each query block keeps its key blocks by share descending (ties: smaller J) until the kept
 * shares reach `tau`, and always its diagonal block; tau >= 1 keeps every causal block. */
export function blockMask(S: number, sc: BlockScores, tau: number): Uint8Array {
  if (!(tau > 0 && tau <= 1)) throw new RangeError(`blockMask: tau must be in (0, 1], got ${tau}.`);
  const nb = sc.blocks;
  const keepBlock = new Uint8Array(nb * nb);
  for (let I = 0; I < nb; I++) {
    keepBlock[I * nb + I] = 1;
    const order = Array.from({ length: I + 1 }, (_, J) => J).sort((a, b) => sc.share[I * nb + b] - sc.share[I * nb + a] || a - b);
    let acc = 0;
    for (const J of order) {
      if (tau < 1 && acc >= tau) break;
      keepBlock[I * nb + J] = 1;
      acc += sc.share[I * nb + J];
    }
  }
  return maskFrom(S, (i, j) => keepBlock[Math.floor(i / sc.block) * nb + Math.floor(j / sc.block)] === 1);
}
