// Stage 1 (column-block and slash-band scores from the sampled tail rows) and stage 2 (the kept
// blocks I_C and bands I_S) of the `blocks` variant, in float64 (docs/SAMPLEATTENTION.md,
// "Variant `blocks`", steps 3-5).
import { attentionRow, checkHead, defaultScale, type Matrix } from '../attention';
import { blockCount } from './params';

export interface StripScores {
  /** C_J for J = 0..ceil(S/b)-1. */
  column: Float64Array;
  /** D_o for o = 0..ceil(S/b)-1 (floor((S-1)/b) + 1 bands, the same count). */
  slash: Float64Array;
}

/** Steps 3-4. Sums run over the rows in the order given (ascending in practice), and within a row
 * over j ascending, so another float64 port can reproduce the bits. Both sum to |R| up to rounding. */
export function stripScores(q: Matrix, k: Matrix, S: number, d: number, b: number, rows: readonly number[], scale = defaultScale(d)): StripScores {
  checkHead('q', q, S, d);
  checkHead('k', k, S, d);
  const nb = blockCount(S, b);
  const column = new Float64Array(nb), slash = new Float64Array(nb);
  for (const i of rows) {
    const p = attentionRow(q, k, S, d, i, scale);
    for (let j = 0; j <= i; j++) {
      column[Math.floor(j / b)] += p[j];
      slash[Math.floor((i - j) / b)] += p[j];
    }
  }
  return { column, slash };
}

export interface StripSelection {
  /** The kept indices (blocks J or bands o), ascending. */
  kept: number[];
  /** Sum of the kept scores (in `order`) over |R|: the share of sampled mass stage 2 believes it kept. */
  stage1Estimate: number;
  /** Every index in the order stage 2 takes them; the kept ones are its first kept.length. */
  order: number[];
}

/**
 * Step 5 for one kind of strip: the fewest indices, by score descending (ties: smaller index),
 * whose scores reach alpha * |R|. The rule is exactly selection.ts selectKeys's for the `tokens`
 * variant (and gives the same indices when nothing is pinned; tested):
 * - the float64 running sum in that order is compared exactly, no tolerance, with alpha * total,
 *   total being the same running sum over all indices (|R| up to rounding; reachable for alpha <= 1);
 * - alpha = 1 keeps exactly the indices with score > 0 (plus the pinned one);
 * - at least one index is kept.
 * `pinned` (ours, for band 0: every row keeps its diagonal) is taken FIRST, whatever its score,
 * and counts towards the threshold; the rest follow by score. Why first, not added after the
 * selection: the spec's reference outcome "b = 1 with alphaSlash -> 0 keeps columns and the
 * diagonal only" holds only if band 0 itself can satisfy the threshold; adding it after would also
 * keep the top-scored band, and the set would not be the fewest bands that contain band 0.
 */
export function selectStrips(scores: Float64Array, alpha: number, rowCount: number, pinned: number | null = null): StripSelection {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha: ${alpha} is outside (0, 1].`);
  if (!(rowCount >= 1)) throw new RangeError(`the number of sampled rows must be >= 1, got ${rowCount}.`);
  const N = scores.length;
  if (N < 1) throw new RangeError('selectStrips needs at least one score.');
  for (let t = 0; t < N; t++) {
    if (!(scores[t] >= 0) || !Number.isFinite(scores[t])) throw new RangeError(`strip score ${t} = ${scores[t]} is not a finite non-negative number.`);
  }
  if (pinned !== null && !(Number.isInteger(pinned) && pinned >= 0 && pinned < N)) throw new RangeError(`pinned index ${pinned} is outside 0..${N - 1}.`);

  const rest = Array.from({ length: N }, (_, t) => t).filter((t) => t !== pinned);
  rest.sort((a, c) => (scores[c] - scores[a]) || (a - c));
  const order = pinned === null ? rest : [pinned, ...rest];

  const running = new Float64Array(N);
  let sum = 0;
  for (let t = 0; t < N; t++) {
    sum += scores[order[t]];
    running[t] = sum;
  }
  const total = sum;
  const first = pinned === null ? 0 : 1; // the pinned index is kept whatever the rule says

  let count: number;
  if (alpha === 1) {
    count = first;
    while (count < N && scores[order[count]] > 0) count++;
  } else {
    const target = alpha * total;
    count = 0;
    while (count < N && running[count] < target) count++;
    count += 1; // running[count] >= target: indices order[0..count] are needed
  }
  count = Math.max(1, first, Math.min(N, count));
  return { kept: order.slice(0, count).sort((a, c) => a - c), stage1Estimate: running[count - 1] / rowCount, order };
}

/** Step 5 for both kinds: I_C by alphaColumn, and I_S by alphaSlash with band 0 pinned (every
 * row keeps its diagonal). The one home of that pairing: the reference (reference.ts) and the
 * rivals' blocks curve (studies/rivals.ts) both select through it. */
export function selectBlocks(scores: StripScores, alphaColumn: number, alphaSlash: number, rowCount: number): { column: StripSelection; slash: StripSelection } {
  return { column: selectStrips(scores.column, alphaColumn, rowCount), slash: selectStrips(scores.slash, alphaSlash, rowCount, 0) };
}
