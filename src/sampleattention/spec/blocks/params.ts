// The `blocks` variant's four per-head parameters (docs/SAMPLEATTENTION.md, "Variant `blocks`"),
// their defaults and ranges, and the counts derived from them: key blocks, slash bands, segments
// and the sampled tail rows.
import { ceilCount, checkLength } from '../params';

export interface BlocksParams {
  /** b: keys per column block and diagonals per slash band; an integer in [1, 65536]. */
  blockSize: number;
  /** CRA threshold of the column blocks, in (0, 1]. */
  alphaColumn: number;
  /** CRA threshold of the slash bands, in (0, 1]. */
  alphaSlash: number;
  /** Sets the number of segments n = max(1, ceil(rowRatio * S / b)), in (0, 1]. */
  rowRatio: number;
}

export const DEFAULT_BLOCKS_PARAMS: BlocksParams = { blockSize: 128, alphaColumn: 0.95, alphaSlash: 0.95, rowRatio: 0.05 };

/** The upper bound of blockSize (ours): the spec names 16..128; 65536 leaves room for long texts
 * while keeping every count of a block (b * S) far inside float64's exact integers. */
export const MAX_BLOCK_SIZE = 65536;

export const BLOCKS_PARAM_NAMES = ['blockSize', 'alphaColumn', 'alphaSlash', 'rowRatio'] as const;
export type BlocksParamName = (typeof BLOCKS_PARAM_NAMES)[number];

export function blocksRangeText(name: BlocksParamName): string {
  return name === 'blockSize' ? `an integer in [1, ${MAX_BLOCK_SIZE}]` : '(0, 1]';
}

/** Null when `value` is allowed for parameter `name`, else the reason ("1.7 is outside (0, 1]"). */
export function blocksParamProblem(name: BlocksParamName, value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${JSON.stringify(value) ?? String(value)} is not a finite number (allowed: ${blocksRangeText(name)})`;
  if (name === 'blockSize') {
    if (!Number.isInteger(value) || value < 1 || value > MAX_BLOCK_SIZE) return `${value} is not ${blocksRangeText(name)}`;
    return null;
  }
  if (!(value > 0 && value <= 1)) return `${value} is outside (0, 1]`;
  return null;
}

/** Throws a RangeError naming the first bad field and its allowed range. */
export function validateBlocksParams(p: BlocksParams): void {
  for (const name of BLOCKS_PARAM_NAMES) {
    const problem = blocksParamProblem(name, p?.[name]);
    if (problem) throw new RangeError(`SampleAttention blocks parameter ${name}: ${problem}.`);
  }
}

/** Step 1: ceil(S / b) key blocks; the slash bands 0..floor((S-1)/b) are as many. */
export function blockCount(S: number, b: number): number {
  checkLength(S);
  return Math.ceil(S / b);
}

/** Step 2: n = max(1, ceil(rowRatio * S / b)) segments, never more than S. The near-integer rule
 * of params.ts ceilCount applies (0.25 * 512 / 128 is 1, not 2, whatever the float64 rounding). */
export function segmentCount(S: number, b: number, rowRatio: number): number {
  checkLength(S);
  return Math.min(S, Math.max(1, ceilCount((rowRatio * S) / b)));
}

/** Step 2: segment c covers rows floor(c S / n) .. floor((c+1) S / n) - 1; its last min(b, length)
 * rows are sampled. Ascending, no repeats (segments are disjoint), always ends in S - 1. */
export function blocksSampledRows(S: number, b: number, rowRatio: number): number[] {
  const n = segmentCount(S, b, rowRatio);
  const rows: number[] = [];
  for (let c = 0; c < n; c++) {
    const start = Math.floor((c * S) / n), end = Math.floor(((c + 1) * S) / n);
    for (let i = Math.max(start, end - b); i < end; i++) rows.push(i);
  }
  return rows;
}
