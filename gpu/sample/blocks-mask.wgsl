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

// Does M hold every entry (i, j), j <= i, of that tile? Yes when each of its column blocks is
// kept, or each distance band it meets is (the same ranges as above); a kernel then tests only
// j <= i inside it instead of two flags an entry.
fn tile_full_in_blocks_mask(bh: BlocksHead, i0: u32, i1: u32, j0: u32, j1: u32) -> bool {
  var cols = true;
  for (var J = j0 / bh.b; J <= j1 / bh.b; J++) { if (!kept_flag(bh.col + J)) { cols = false; break; } }
  if (cols) { return true; }
  var dmin = 0u;
  if (i0 > j1) { dmin = i0 - j1; }
  for (var o = dmin / bh.b; o <= (i1 - j0) / bh.b; o++) { if (!kept_flag(bh.band + o)) { return false; } }
  return true;
}
