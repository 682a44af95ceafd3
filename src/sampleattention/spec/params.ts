// SampleAttention's three per-head parameters (docs/SAMPLEATTENTION.md, "Parameters"), their
// defaults and ranges, and the two counts derived from them (sampled rows n, window w).

export interface SampleParams {
  /** CRA threshold: share of sampled attention mass the column stripes must keep, in (0, 1]. */
  alpha: number;
  /** Share of query rows sampled in stage 1, in (0, 1]. */
  rowRatio: number;
  /** Local window as a share of S, in [0, 1]. */
  windowRatio: number;
}

export const DEFAULT_PARAMS: SampleParams = { alpha: 0.95, rowRatio: 0.05, windowRatio: 0.08 };

/** The allowed range of each parameter: `lowOpen` means the lower bound itself is not allowed. */
export const PARAM_RANGES: Record<keyof SampleParams, { lo: number; hi: number; lowOpen: boolean }> = {
  alpha: { lo: 0, hi: 1, lowOpen: true },
  rowRatio: { lo: 0, hi: 1, lowOpen: true },
  windowRatio: { lo: 0, hi: 1, lowOpen: false },
};

export function rangeText(name: keyof SampleParams): string {
  const r = PARAM_RANGES[name];
  return `${r.lowOpen ? '(' : '['}${r.lo}, ${r.hi}]`;
}

/** Null when `value` is allowed for parameter `name`, else the reason ("1.7 is outside (0, 1]"). */
export function paramProblem(name: keyof SampleParams, value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${JSON.stringify(value) ?? String(value)} is not a finite number (allowed: ${rangeText(name)})`;
  const r = PARAM_RANGES[name];
  const tooLow = r.lowOpen ? value <= r.lo : value < r.lo;
  if (tooLow || value > r.hi) return `${value} is outside ${rangeText(name)}`;
  return null;
}

/** The three parameters' names, in the order the spec gives them. */
export const PARAM_KEYS = ['alpha', 'rowRatio', 'windowRatio'] as const;

/** Throws an Error naming the first bad field and its allowed range. */
export function validateParams(p: SampleParams): void {
  for (const name of PARAM_KEYS) {
    const problem = paramProblem(name, p?.[name]);
    if (problem) throw new RangeError(`SampleAttention parameter ${name}: ${problem}.`);
  }
}

/** ceil(x) for a count x = ratio * S, except that a product within 1e-9 (relative) of an integer
 * counts as that integer (ours). Why: 0.07 * 100 is 7.000000000000001 in float64, and a plain ceil
 * would give 8 rows where every reader of "7% of 100" expects 7. Real products of a ratio typed
 * with a few digits and an S below 2^31 are either integers in exact arithmetic (and land within
 * a few ulps of one) or sit at least 1/(10^digits) away from one, far outside 1e-9. */
export function ceilCount(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x - r) <= 1e-9 * Math.max(1, Math.abs(x))) return r;
  return Math.ceil(x);
}

/** Stage 1 step 1: n = max(1, ceil(rowRatio * S)), never more than S. */
export function sampleCount(S: number, rowRatio: number): number {
  return Math.min(S, Math.max(1, ceilCount(rowRatio * S)));
}

/** Step 1-2: the last row of each of n near-equal contiguous chunks, ascending; always ends in S-1. */
export function sampledRows(S: number, rowRatio: number): number[] {
  checkLength(S);
  const n = sampleCount(S, rowRatio);
  const rows: number[] = [];
  for (let c = 0; c < n; c++) rows.push(Math.floor(((c + 1) * S) / n) - 1);
  return rows;
}

/** Step 7: w = ceil(windowRatio * S). The mask keeps the diagonal also when w = 0 (see mask.ts). */
export function windowSize(S: number, windowRatio: number): number {
  checkLength(S);
  return Math.min(S, Math.max(0, ceilCount(windowRatio * S)));
}

export function checkLength(S: number): void {
  if (!Number.isInteger(S) || S < 1) throw new RangeError(`sequence length S must be a positive integer, got ${S}.`);
}
