// The `blocks` variant's mask (docs/SAMPLEATTENTION.md, "Variant `blocks`", step 6) and its exact
// density:
//   M_ij = 1 if j <= i and (floor(j / b) in I_C or floor((i - j) / b) in I_S).
import type { MaskPredicate } from '../attention';
import { blockCount } from './params';

export interface BlocksMask {
  S: number;
  b: number;
  /** columnSet[J] = 1 when block J is in I_C; length ceil(S/b). */
  columnSet: Uint8Array;
  /** slashSet[o] = 1 when band o is in I_S; length ceil(S/b). */
  slashSet: Uint8Array;
}

/** The mask of kept blocks and bands (each list ascending or not; indices checked). */
export function blocksMask(S: number, b: number, columnBlocks: readonly number[], slashBands: readonly number[]): BlocksMask {
  const nb = blockCount(S, b);
  const set = (xs: readonly number[], what: string) => {
    const s = new Uint8Array(nb);
    for (const x of xs) {
      if (!Number.isInteger(x) || x < 0 || x >= nb) throw new RangeError(`${what} ${x} is outside 0..${nb - 1} (S = ${S}, b = ${b}).`);
      s[x] = 1;
    }
    return s;
  };
  return { S, b, columnSet: set(columnBlocks, 'column block'), slashSet: set(slashBands, 'slash band') };
}

/** M_ij as a predicate for attention.ts's sparseAttentionWhere / rowRecallWhere. */
export function blocksPredicate(m: BlocksMask): MaskPredicate {
  const { b, columnSet, slashSet } = m;
  return (i, j) => j <= i && (columnSet[Math.floor(j / b)] !== 0 || slashSet[Math.floor((i - j) / b)] !== 0);
}

/**
 * Exact number of kept entries in O(S + blocks), counted per key (column) j:
 * - a key in a kept block is kept on every row i >= j: S - j entries;
 * - any other key is kept on the rows whose distance t = i - j (0 <= t <= S - 1 - j) lies in a kept
 *   band: bandPrefix[S - 1 - j] entries, where bandPrefix[m] counts the distances 0..m in kept bands.
 * Integers throughout (below 2^53 for S < 1.3e8), so the count is exact.
 */
export function blocksMaskCount(m: BlocksMask): number {
  const { S, b, columnSet, slashSet } = m;
  const bandPrefix = new Float64Array(S);
  let run = 0;
  for (let t = 0; t < S; t++) {
    run += slashSet[Math.floor(t / b)];
    bandPrefix[t] = run;
  }
  let count = 0;
  for (let j = 0; j < S; j++) count += columnSet[Math.floor(j / b)] ? S - j : bandPrefix[S - 1 - j];
  return count;
}

/** Kept entries over the S(S+1)/2 causal entries; in (0, 1] when band 0 is kept. */
export function blocksDensity(m: BlocksMask): number {
  return blocksMaskCount(m) / ((m.S * (m.S + 1)) / 2);
}
