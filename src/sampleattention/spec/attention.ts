// Float64 causal attention of one head: one row's softmax, the dense output with its log-sum-exp,
// and the sparse output renormalised over a mask (docs/SAMPLEATTENTION.md step 9). Every sum runs
// in ascending index order (dimension for dot products, key j for softmax sums) so another
// implementation can reproduce the exact bits if it needs to.
//
// Layout: q, k, v are (S, d) row-major; row i of q starts at i * d.

import { checkLength } from './params';
import { inMask, effectiveWindow } from './mask';

export type Matrix = ArrayLike<number>;

export function defaultScale(d: number): number {
  return 1 / Math.sqrt(d);
}

export function checkHead(name: string, x: Matrix, S: number, d: number): void {
  checkLength(S);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`head dimension d must be a positive integer, got ${d}.`);
  if (x.length < S * d) throw new RangeError(`${name} has ${x.length} values, fewer than S * d = ${S} * ${d} = ${S * d}.`);
}

/** Scaled scores s_ij = scale * q_i . k_j for j = 0..i (the causal part of row i). */
export function scoreRow(q: Matrix, k: Matrix, d: number, i: number, scale: number): Float64Array {
  const s = new Float64Array(i + 1);
  const qo = i * d;
  for (let j = 0; j <= i; j++) {
    const ko = j * d;
    let dot = 0;
    for (let t = 0; t < d; t++) dot += q[qo + t] * k[ko + t];
    s[j] = scale * dot;
  }
  return s;
}

/** Softmax of `s` in place: exp(s_j - max) / sum; returns the natural-log sum exp of `s`. */
function softmaxInPlace(s: Float64Array): number {
  let m = -Infinity;
  for (let j = 0; j < s.length; j++) if (s[j] > m) m = s[j];
  let z = 0;
  for (let j = 0; j < s.length; j++) {
    s[j] = Math.exp(s[j] - m);
    z += s[j];
  }
  for (let j = 0; j < s.length; j++) s[j] /= z;
  return m + Math.log(z);
}

/** Row i of the full causal attention P (length i + 1; P_ij for j > i is 0 and not stored). */
export function attentionRow(q: Matrix, k: Matrix, S: number, d: number, i: number, scale = defaultScale(d)): Float64Array {
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  if (!Number.isInteger(i) || i < 0 || i >= S) throw new RangeError(`row ${i} is outside 0..${S - 1}.`);
  const p = scoreRow(q, k, d, i, scale);
  softmaxInPlace(p);
  return p;
}

/** Full causal attention: out (S, d) and lse (S), lse_i = log sum_{j<=i} exp(s_ij) (natural log). */
export function denseAttention(q: Matrix, k: Matrix, v: Matrix, S: number, d: number, scale = defaultScale(d)): { out: Float64Array; lse: Float64Array } {
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  checkHead('v', v, S, d);
  const out = new Float64Array(S * d);
  const lse = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    const p = scoreRow(q, k, d, i, scale);
    lse[i] = softmaxInPlace(p);
    accumulate(out, i, p, v, d, null);
  }
  return { out, lse };
}

/** out[i] = sum_j p_j v_j over the j with keep(j) (all j when keep is null). */
function accumulate(out: Float64Array, i: number, p: Float64Array, v: Matrix, d: number, keep: ((j: number) => boolean) | null): void {
  const oo = i * d;
  for (let j = 0; j < p.length; j++) {
    if (keep && !keep(j)) continue;
    const pj = p[j];
    const vo = j * d;
    for (let t = 0; t < d; t++) out[oo + t] += pj * v[vo + t];
  }
}

/** A mask as a predicate: keep(i, j) for 0 <= j <= i says whether M_ij = 1. Each variant's mask
 * (tokens: window and key set; blocks: column blocks and slash bands) is one of these, so the
 * sparse output and the recall are one loop each, not one per variant. */
export type MaskPredicate = (i: number, j: number) => boolean;

/** Step 9: O_i = softmax over the kept keys M_i (max over kept keys only) applied to V. */
export function sparseAttention(q: Matrix, k: Matrix, v: Matrix, S: number, d: number, w: number, keySet: Uint8Array, scale = defaultScale(d)): Float64Array {
  checkKeySet(keySet, S);
  return sparseAttentionWhere(q, k, v, S, d, (i, j) => inMask(i, j, w, keySet), scale);
}

/** Step 9 for any mask: `keep` must keep at least one key of every row (both variants keep the
 * diagonal), else that row is 0/0. */
export function sparseAttentionWhere(q: Matrix, k: Matrix, v: Matrix, S: number, d: number, keepEntry: MaskPredicate, scale = defaultScale(d)): Float64Array {
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  checkHead('v', v, S, d);
  const out = new Float64Array(S * d);
  for (let i = 0; i < S; i++) {
    const s = scoreRow(q, k, d, i, scale);
    const keep = (j: number) => keepEntry(i, j);
    let m = -Infinity;
    for (let j = 0; j <= i; j++) if (keep(j) && s[j] > m) m = s[j];
    let z = 0;
    for (let j = 0; j <= i; j++) {
      s[j] = keep(j) ? Math.exp(s[j] - m) : 0;
      z += s[j];
    }
    for (let j = 0; j <= i; j++) s[j] /= z;
    accumulate(out, i, s, v, d, keep);
  }
  return out;
}

/** R_i = sum_j M_ij P_ij with the FULL softmax P (CRA, "Measures"), for every row i. */
export function rowRecall(q: Matrix, k: Matrix, S: number, d: number, w: number, keySet: Uint8Array, scale = defaultScale(d)): Float64Array {
  checkKeySet(keySet, S);
  const we = effectiveWindow(w);
  return rowRecallWhere(q, k, S, d, (i, j) => i - j < we || keySet[j] !== 0, scale);
}

/** Row recall for any mask predicate (asked only for j <= i). */
export function rowRecallWhere(q: Matrix, k: Matrix, S: number, d: number, keep: MaskPredicate, scale = defaultScale(d)): Float64Array {
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  const recall = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    const p = scoreRow(q, k, d, i, scale);
    softmaxInPlace(p);
    let r = 0;
    // Ascending j, adding only kept entries: a larger mask is a superset, and float addition of
    // non-negative terms is monotone, so recall never drops when the mask grows (tested).
    for (let j = 0; j <= i; j++) if (keep(i, j)) r += p[j];
    recall[i] = r;
  }
  return recall;
}

export function checkKeySet(keySet: Uint8Array, S: number): void {
  if (keySet.length !== S) throw new RangeError(`keySet has length ${keySet.length}; it must have one entry per key, S = ${S}.`);
}
