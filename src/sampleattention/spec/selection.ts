// Stage 1 (column scores from the sampled rows) and stage 2 (the key set I_KV) of
// docs/SAMPLEATTENTION.md, in float64.

import { attentionRow, checkHead, defaultScale, type Matrix } from './attention';

/** Step 4: c_j = sum over sampled rows i (in the order given, ascending in practice) of P_ij. */
export function columnScores(q: Matrix, k: Matrix, S: number, d: number, rows: readonly number[], scale = defaultScale(d)): Float64Array {
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  const c = new Float64Array(S);
  for (const i of rows) {
    const p = attentionRow(q, k, S, d, i, scale);
    for (let j = 0; j <= i; j++) c[j] += p[j];
  }
  return c;
}

export interface KeySelection {
  /** I_KV, ascending. */
  keys: number[];
  /** sum over kept keys of c_j / n: the share of sampled mass stage 2 believes it kept. */
  stage1Estimate: number;
  /** All S keys by c_j descending, ties by smaller j (step 5). The kept keys are its first keys.length. */
  order: number[];
  /** cumulative[t] = (c_order[0] + ... + c_order[t]) / n, summed in that order. */
  cumulative: Float64Array;
}

/**
 * Steps 5-6: the fewest top-scored keys holding at least alpha of the column-score mass.
 *
 * Exact choices (ours), so that every implementation picks the same keys:
 * - Order: c_j descending, ties (equal float64 values) by smaller j first.
 * - Threshold: the running sum (float64, in that order) is compared EXACTLY, no tolerance, against
 *   alpha * total, where total is the same running sum over all S keys. In exact arithmetic
 *   total = n (each sampled softmax row sums to 1); in float64 it differs from n by a few ulps.
 *   Using the computed total instead of n means the threshold is always reachable (alpha <= 1) and
 *   the stopping rule is decided by one comparison of two numbers produced by the same sums, so
 *   minimality holds exactly: the running sum just before the last kept key is < alpha * total.
 *   A tolerance would instead make k depend on a constant nobody else shares. Consequence: the
 *   reported stage1Estimate is >= alpha * total / n, i.e. >= alpha up to ~1e-15 relative.
 * - alpha = 1 keeps exactly the keys with c_j > 0 (spec step 6). This is special-cased because in
 *   float64 the running sum can reach total before the smallest positive c_j are added (a c_j below
 *   half an ulp of the sum does not change it), while mathematically all of them are needed.
 * - At least one key is always kept (alpha -> 0 keeps the single top-scored key).
 */
export function selectKeys(scores: Float64Array, alpha: number, n: number): KeySelection {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha: ${alpha} is outside (0, 1].`);
  if (!(n >= 1)) throw new RangeError(`n (the number of sampled rows) must be >= 1, got ${n}.`);
  const S = scores.length;
  if (S < 1) throw new RangeError('selectKeys needs at least one column score.');
  for (let j = 0; j < S; j++) {
    if (!(scores[j] >= 0) || !Number.isFinite(scores[j])) throw new RangeError(`column score c_${j} = ${scores[j]} is not a finite non-negative number.`);
  }
  const order = Array.from({ length: S }, (_, j) => j);
  order.sort((a, b) => (scores[b] - scores[a]) || (a - b));

  const running = new Float64Array(S);
  let sum = 0;
  for (let t = 0; t < S; t++) {
    sum += scores[order[t]];
    running[t] = sum;
  }
  const total = sum;

  let count: number;
  if (alpha === 1) {
    count = 0;
    while (count < S && scores[order[count]] > 0) count++;
  } else {
    const target = alpha * total;
    count = 0;
    while (count < S && running[count] < target) count++;
    count += 1; // running[count] >= target: keys order[0..count] are needed
  }
  count = Math.max(1, Math.min(S, count));

  const keys = order.slice(0, count).sort((a, b) => a - b);
  const cumulative = new Float64Array(S);
  for (let t = 0; t < S; t++) cumulative[t] = running[t] / n;
  return { keys, stage1Estimate: running[count - 1] / n, order, cumulative };
}

/** What the selection and its measures give for one head (reference.ts selectHead; the GPU run
 * returns the same shape). */
export interface HeadSelection {
  head: number;
  /** Stage 1 rows R, ascending. */
  sampledRows: number[];
  /** I_KV, ascending. */
  selectedKeys: number[];
  /** w = ceil(windowRatio * S); the mask keeps max(w, 1) diagonals. */
  window: number;
  stage1Estimate: number;
  /** Mean, minimum and nearest-rank 5th percentile of R_i over all S rows. */
  recallMean: number;
  recallMin: number;
  recallP5: number;
  density: number;
  /** ||O_sparse - O_dense||_F / ||O_dense||_F, only when v was given. */
  outputError?: number;
}
