// Grid side of the chosen head's whole-map planes: texts up to this many tokens are drawn one cell
// per token; longer ones block-pooled until the head view zooms in and asks for its viewport
// (headViewport). The URL parameter ?detailSide=N (N >= 8) lowers it, so tests see a pooled map
// at a short, fast S.
const DETAIL_SIDE = 512;
export function detailSide(): number {
  const n = Number(typeof location !== 'undefined' ? new URLSearchParams(location.search).get('detailSide') ?? NaN : NaN);
  return Number.isInteger(n) && n >= 8 ? Math.min(n, DETAIL_SIDE) : DETAIL_SIDE;
}
