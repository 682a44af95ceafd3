// Shape checks shared by every attention kernel wrapper: q is (heads, S, d), k and v are
// (kvHeads, S, d), and query head h reads kv head floor(h / (heads / kvHeads)).
import type { Tensor } from '../tensor';
import { shapeString } from '../tensor';

/** Largest head dimension the kernels hold in registers / workgroup memory. */
export const MAX_HEAD_DIM = 128;

export interface AttentionShape {
  heads: number;
  kvHeads: number;
  S: number;
  d: number;
}

function sameShape(t: Tensor, want: readonly number[]): boolean {
  return t.shape.length === want.length && t.shape.every((x, i) => x === want[i]);
}

/** Throws a message naming the bad argument and what it should be. */
export function checkAttentionShape(what: string, s: AttentionShape, q: Tensor, k: Tensor, v?: Tensor): void {
  const { heads, kvHeads, S, d } = s;
  for (const [name, x] of [['heads', heads], ['kvHeads', kvHeads], ['S', S], ['d', d]] as const) {
    if (!Number.isInteger(x) || x < 1) throw new RangeError(`${what}: ${name} must be a positive integer, got ${x}.`);
  }
  if (heads % kvHeads !== 0) throw new RangeError(`${what}: heads (${heads}) is not a multiple of kvHeads (${kvHeads}); grouped-query attention needs each kv head to serve the same number of query heads.`);
  if (d > MAX_HEAD_DIM) throw new RangeError(`${what}: head dimension ${d} is above the kernels' maximum ${MAX_HEAD_DIM}.`);
  if (!sameShape(q, [heads, S, d])) throw new RangeError(`${what}: q ${q.label} has shape ${shapeString(q.shape)}; expected (heads, S, d) = ${shapeString([heads, S, d])}.`);
  if (!sameShape(k, [kvHeads, S, d])) throw new RangeError(`${what}: k ${k.label} has shape ${shapeString(k.shape)}; expected (kvHeads, S, d) = ${shapeString([kvHeads, S, d])}.`);
  if (v && !sameShape(v, [kvHeads, S, d])) throw new RangeError(`${what}: v ${v.label} has shape ${shapeString(v.shape)}; expected (kvHeads, S, d) = ${shapeString([kvHeads, S, d])}.`);
}
