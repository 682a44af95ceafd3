// Summary statistics of per-row measures.

/**
 * Nearest-rank percentile (ours, the textbook definition with no interpolation): sort the values
 * ascending, take rank r = ceil(p / 100 * N) clamped to 1..N, return the r-th smallest. So p = 0
 * is the minimum, p = 100 the maximum, and the result is always one of the values (a real row's
 * recall, which a user can go and look at). P5 of 20 rows is the smallest; of 100 rows the 5th.
 */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const N = xs.length;
  if (N === 0) throw new RangeError('percentile of an empty list is undefined.');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile p must be in [0, 100], got ${p}.`);
  const sorted = Float64Array.from(xs);
  for (let t = 0; t < N; t++) if (Number.isNaN(sorted[t])) throw new RangeError(`percentile: value ${t} is NaN.`);
  sorted.sort();
  const rank = Math.min(N, Math.max(1, Math.ceil((p / 100) * N)));
  return sorted[rank - 1];
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let t = 0; t < xs.length; t++) s += xs[t];
  return s / xs.length;
}

export function min(xs: ArrayLike<number>): number {
  let m = Infinity;
  for (let t = 0; t < xs.length; t++) if (xs[t] < m) m = xs[t];
  return m;
}
