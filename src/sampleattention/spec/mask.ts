// The SampleAttention mask (docs/SAMPLEATTENTION.md steps 7-8) and its exact density.
//
// M_ij = 1 if j <= i and (i - j < w' or j in I_KV), with w' = max(w, 1): the diagonal is always
// kept, also when w = 0 (spec step 7, ours), so every row has at least one key to attend to.

/** The window the mask really uses: max(w, 1). */
export function effectiveWindow(w: number): number {
  return Math.max(w, 1);
}

/** M_ij for one entry; keySet[j] is 1 when j is in I_KV. */
export function inMask(i: number, j: number, w: number, keySet: Uint8Array): boolean {
  return j <= i && (i - j < effectiveWindow(w) || keySet[j] !== 0);
}

/** Keys (ascending indices) as a 0/1 array of length S. */
export function keySetOf(keys: readonly number[], S: number): Uint8Array {
  const set = new Uint8Array(S);
  for (const j of keys) {
    if (!Number.isInteger(j) || j < 0 || j >= S) throw new RangeError(`key ${j} is outside 0..${S - 1}.`);
    set[j] = 1;
  }
  return set;
}

/** Exact number of kept entries, in O(S): the window keeps min(i + 1, w') keys of row i, and a
 * selected key j adds the rows below its window, i >= j + w', which are max(0, S - j - w'). */
export function maskCount(S: number, w: number, keySet: Uint8Array): number {
  const we = effectiveWindow(w);
  let count = 0;
  for (let i = 0; i < S; i++) count += Math.min(i + 1, we);
  for (let j = 0; j < S; j++) if (keySet[j]) count += Math.max(0, S - j - we);
  return count;
}

/** Density: kept entries over the S(S+1)/2 causal entries; in (0, 1] since the diagonal is kept. */
export function density(S: number, w: number, keySet: Uint8Array): number {
  if (keySet.length !== S) throw new RangeError(`keySet has length ${keySet.length}; it must have one entry per key, S = ${S}.`);
  return maskCount(S, w, keySet) / ((S * (S + 1)) / 2);
}
