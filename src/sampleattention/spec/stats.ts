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
  const a = Float64Array.from(xs);
  for (let t = 0; t < N; t++) if (Number.isNaN(a[t])) throw new RangeError(`percentile: value ${t} is NaN.`);
  const rank = Math.min(N, Math.max(1, Math.ceil((p / 100) * N)));
  return kthSmallest(a, rank - 1);
}

/** The k-th smallest value (0-based) of a, which it reorders: the value sorting would put at k,
 * found by quickselect in O(N) on average (the studio takes a P5 of 32K-row recalls per head on
 * every slider move; sorting them cost more than the GPU work at 32K). */
export function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    // Median of three as the pivot, then Hoare's partition.
    const mid = (lo + hi) >>> 1;
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++; j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
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
