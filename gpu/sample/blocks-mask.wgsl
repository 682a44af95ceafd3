// The `blocks` variant's mask M (docs/SAMPLEATTENTION.md, "Variant `blocks`", step 6) on the GPU,
// written once for both block-sparse kernels (blocks-attend.wgsl, f32; tensorcore/flash.wgsl
// MODE 3, f16):
//   M_ij = 1 if j <= i and (kept column block floor(j / b) or kept slash band floor((i - j) / b)).
// The including kernel defines fn kept_flag(x: u32) -> bool, flag x of the (2, heads, nb) kept
// buffer (column blocks of every head, then slash bands of every head).

struct BlocksHead {
  col: u32,  // offset of the head's column-block flags in the kept buffer
  band: u32, // offset of its slash-band flags
  b: u32,    // block size
}

fn blocks_head(h: u32, heads: u32, b: u32, S: u32) -> BlocksHead {
  let nb = (S + b - 1u) / b;
  return BlocksHead(h * nb, (heads + h) * nb, b);
}

// M_ij for j <= i.
fn in_blocks_mask(bh: BlocksHead, i: u32, j: u32) -> bool {
  return kept_flag(bh.col + j / bh.b) || kept_flag(bh.band + (i - j) / bh.b);
}

// Does the tile rows i0..i1 x keys j0..j1 (j0 <= i1) hold an entry of M? Its entries (i, j), j <= i,
// meet exactly the blocks floor(j0/b) .. floor(j1/b) and the distances max(0, i0 - j1) .. i1 - j0
// (every integer in between occurs), so "some kept block or band in those ranges" is the exact
// test, not a bound: a skipped tile holds no entry of M.
fn tile_in_blocks_mask(bh: BlocksHead, i0: u32, i1: u32, j0: u32, j1: u32) -> bool {
  for (var J = j0 / bh.b; J <= j1 / bh.b; J++) { if (kept_flag(bh.col + J)) { return true; } }
  var dmin = 0u;
  if (i0 > j1) { dmin = i0 - j1; }
  for (var o = dmin / bh.b; o <= (i1 - j0) / bh.b; o++) { if (kept_flag(bh.band + o)) { return true; } }
  return false;
}

// A tile's kept column blocks and distance bands as bits (bit J - J0 of cols, o - O0 of bands),
// read from storage once a tile, so its entries test registers instead of two flags each; full:
// M holds the tile's whole causal part (every block or every band kept: the entries test j <= i
// only). ok is false when a range passes 32 blocks (block sizes below about (rows + keys) / 31),
// and the entries then read their flags.
struct TileMask { ok: bool, full: bool, J0: u32, O0: u32, cols: u32, bands: u32 }

// For the tile rows i0..i1 x keys j0..j1 (j0 <= i1), the ranges of tile_in_blocks_mask.
fn tile_mask(bh: BlocksHead, i0: u32, i1: u32, j0: u32, j1: u32) -> TileMask {
  var tm: TileMask;
  var dmin = 0u;
  if (i0 > j1) { dmin = i0 - j1; }
  tm.J0 = j0 / bh.b;
  tm.O0 = dmin / bh.b;
  let nJ = j1 / bh.b - tm.J0 + 1u;
  let nO = (i1 - j0) / bh.b - tm.O0 + 1u;
  tm.ok = nJ <= 32u && nO <= 32u;
  if (!tm.ok) { return tm; } // full stays false
  for (var x = 0u; x < nJ; x++) { if (kept_flag(bh.col + tm.J0 + x)) { tm.cols |= 1u << x; } }
  for (var x = 0u; x < nO; x++) { if (kept_flag(bh.band + tm.O0 + x)) { tm.bands |= 1u << x; } }
  let allJ = select((1u << nJ) - 1u, 0xffffffffu, nJ == 32u);
  let allO = select((1u << nO) - 1u, 0xffffffffu, nO == 32u);
  tm.full = tm.cols == allJ || tm.bands == allO;
  return tm;
}

// M_ij for an entry j <= i of the tile tm was made for.
fn in_tile_mask(tm: TileMask, bh: BlocksHead, i: u32, j: u32) -> bool {
  if (tm.full) { return true; }
  if (!tm.ok) { return in_blocks_mask(bh, i, j); }
  return ((tm.cols >> (j / bh.b - tm.J0)) & 1u) != 0u || ((tm.bands >> ((i - j) / bh.b - tm.O0)) & 1u) != 0u;
}
