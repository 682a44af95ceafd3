// Both variants' masks in one form (ours), so one measures kernel and one pooling kernel serve
// every head: a key-column plane col (S) and a diagonal-offset plane diag (S), with
//   M_ij = 1 if j <= i and (col[j] or diag[i - j]).
// tokens: col = I_KV, diag[o] = (o < max(w, 1)) (mask.ts); blocks: col[j] = block floor(j / b)
// kept, diag[o] = band floor(o / b) kept (blocks/mask.ts). Both masks are exactly of this form.
import type { MaskPredicate } from './attention';
import { effectiveWindow, keySetOf } from './mask';
import type { HeadResult } from './setting';

export interface MaskPlanes {
  /** (S) 1 = key column j kept on every row i >= j */
  col: Uint8Array;
  /** (S) 1 = diagonal offset o = i - j kept */
  diag: Uint8Array;
}

/** The planes of one head's selection. */
export function resultPlanes(r: HeadResult, S: number): MaskPlanes {
  const diag = new Uint8Array(S);
  if (r.variant === 'tokens') {
    const w = effectiveWindow(r.window);
    for (let o = 0; o < Math.min(w, S); o++) diag[o] = 1;
    return { col: keySetOf(r.selectedKeys, S), diag };
  }
  const b = r.blockSize;
  const col = new Uint8Array(S);
  for (const J of r.columnBlocks) for (let j = J * b; j < Math.min(S, (J + 1) * b); j++) col[j] = 1;
  for (const o of r.slashBands) for (let t = o * b; t < Math.min(S, (o + 1) * b); t++) diag[t] = 1;
  return { col, diag };
}

export function planesPredicate(p: MaskPlanes): MaskPredicate {
  return (i, j) => j <= i && (p.col[j] !== 0 || p.diag[i - j] !== 0);
}

/** diagCum[o] = number of kept offsets in 0..o: the form the GPU kernels read (one prefix count
 * gives both diag[o] = diagCum[o] - diagCum[o - 1] and the exact entry count below). */
export function diagCumulative(diag: Uint8Array): Uint32Array {
  const out = new Uint32Array(diag.length);
  let run = 0;
  for (let o = 0; o < diag.length; o++) out[o] = run += diag[o] ? 1 : 0;
  return out;
}

/** Exact kept entries, per key column j: a kept column is kept on all S - j rows i >= j; any other
 * key on the rows whose offset i - j in 0..S-1-j is kept: diagCum[S - 1 - j]. */
export function planesCount(p: MaskPlanes): number {
  const S = p.col.length;
  const cum = diagCumulative(p.diag);
  let count = 0;
  for (let j = 0; j < S; j++) count += p.col[j] ? S - j : cum[S - 1 - j];
  return count;
}

/** The tokens variant's planes from a key set and a window (mask.ts's M). */
export function tokensPlanes(keySet: Uint8Array, w: number): MaskPlanes {
  const S = keySet.length;
  const diag = new Uint8Array(S);
  for (let o = 0; o < Math.min(effectiveWindow(w), S); o++) diag[o] = 1;
  return { col: Uint8Array.from(keySet, (x) => (x ? 1 : 0)), diag };
}

/** Every head's planes as the (heads, S) u32 col and diagCum arrays the GPU kernels read. */
export function layerPlaneArrays(planes: readonly MaskPlanes[]): { col: Uint32Array; diagCum: Uint32Array } {
  const S = planes[0]?.col.length ?? 0;
  const col = new Uint32Array(planes.length * S), diagCum = new Uint32Array(planes.length * S);
  planes.forEach((p, h) => {
    col.set(p.col, h * S);
    diagCum.set(diagCumulative(p.diag), h * S);
  });
  return { col, diagCum };
}
