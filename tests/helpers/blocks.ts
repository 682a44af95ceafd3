// The `blocks` variant's test predictions shared by its f32 and f16 GPU tests: stage 2 replayed in
// f32 (the kernel's arithmetic, so its kept sets are predicted exactly) and the key tiles a
// block-sparse kernel must visit.
import { BLOCKS_BQ } from '../../gpu/sample/blocks-sparse';

/** selectStrips in f32: the GPU kernel's arithmetic (the order, the running sum in that order,
 * alpha * total, all rounded to f32), so the kernel's result is predicted exactly. */
export function selectStripsF32(scores: Float32Array, alpha: number, rowCount: number, pinned: number | null): { kept: number[]; count: number; estimate: number } {
  const N = scores.length;
  const rest = Array.from({ length: N }, (_, t) => t).filter((t) => t !== pinned);
  rest.sort((a, c) => (scores[c] - scores[a]) || (a - c));
  const order = pinned === null ? rest : [pinned, ...rest];
  const f = Math.fround;
  let total = 0;
  for (const t of order) total = f(total + scores[t]);
  const a = f(alpha), first = pinned === null ? 0 : 1;
  let count = 0;
  if (a === 1) {
    count = first;
    while (count < N && scores[order[count]] > 0) count++;
  } else {
    const target = f(a * total);
    let run = 0;
    do {
      run = f(run + scores[order[count]]);
      count++;
    } while (!(run >= target) && count < N);
  }
  count = Math.max(count, first, 1);
  let kept = 0;
  for (let r = 0; r < count; r++) kept = f(kept + scores[order[r]]);
  return { kept: order.slice(0, count).sort((x, y) => x - y), count, estimate: f(kept / rowCount) };
}

/** Query tiles x key tiles of the kernel that hold at least one entry of M (brute force). */
export function tilesWithMask(S: number, bk: number, keep: (i: number, j: number) => boolean): number[] {
  const out: number[] = [];
  for (let i0 = 0; i0 < S; i0 += BLOCKS_BQ) {
    const i1 = Math.min(i0 + BLOCKS_BQ, S) - 1;
    let n = 0;
    for (let j0 = 0; j0 <= i1; j0 += bk) {
      let any = false;
      for (let i = i0; i <= i1 && !any; i++) for (let j = j0; j <= Math.min(j0 + bk - 1, i); j++) if (keep(i, j)) { any = true; break; }
      if (any) n++;
    }
    out.push(n);
  }
  return out;
}
