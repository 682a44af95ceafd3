// The tiles one workgroup of the causal attention kernels walks, written once for both paths
// (tiled.wgsl, f32 CUDA cores; tensorcore/flash.wgsl, f16 tensor cores): the query rows of a
// block (row_of: S rows in order, or MODE 2's gathered sampled rows), and the key in each slot of
// each key tile (key_of): keys 0 .. last in order (MODE 0 and 2), or for the SampleAttention mask
// (MODE 1, docs/SAMPLEATTENTION.md step 8, W = max(w, 1)) first the stripe tiles, the head's kept
// keys (ascending idx list) that some row of the block keeps beyond its window (j + W <= last),
// then the band tiles, keys max(0, q0 - W + 1) .. last. MODE 3 (the `blocks` variant, tensor
// cores only) walks MODE 0's tiles and its kernel skips those outside its mask. The kernel that
// includes this defines BQ (rows per block), TILE_KEYS (keys per tile), MODE, NONE and bindings
// 0 .. 2 (q, k, v); the bindings after them, the same in both kernels, are here.

@group(0) @binding(3) var<storage, read> idx: array<u32>;        // MODE 1: (heads, S) kept keys ascending; MODE 2 / column_sums: (heads, nMax) sampled rows; MODE 3: (2, heads, nb) kept blocks / bands
@group(0) @binding(4) var<storage, read> cnt: array<u32>;        // MODE 1: (heads, 2) key count first; MODE 2 / column_sums: (heads) row counts
@group(0) @binding(5) var<storage, read> win: array<u32>;        // MODE 1: (heads) window w
fn window_of(h: u32) -> u32 { return win[h]; }                    // (tensorcore MODE 3 replaces these two lines: flash.ts)
@group(0) @binding(6) var<storage, read_write> out: array<f32>;  // attend: (heads, S, D) output; column_sums: (heads, S) c_j
@group(0) @binding(7) var<storage, read_write> lse: array<f32>;  // attend: (heads, S) or MODE 2 (heads, nMax); column_sums reads it
struct Params { S: u32, group: u32, scale: f32, nMax: u32 } // nMax: MODE 2 / column_sums; MODE 3: the block size b
@group(0) @binding(8) var<uniform> p: Params;

struct TilePlan {
  last: u32,        // the block's last query row (rows ascend within a block in every mode)
  stripeTiles: u32, // MODE 1: tiles of kept keys before the band tiles
  count: u32,       // MODE 1: the head's kept keys
  bandStart: u32,   // MODE 1: first key of the band tiles
  W: u32,           // MODE 1: the window, at least 1
  nTiles: u32,
}

// Query row of local row r of the block starting at slot q0 (NONE when there is none).
fn row_of(h: u32, q0: u32, r: u32) -> u32 {
  let slot = q0 + r;
  if (MODE == 2u) {
    if (slot < cnt[h]) { return idx[h * p.nMax + slot]; }
    return NONE;
  }
  if (slot < p.S) { return slot; }
  return NONE;
}

// Rows the block holds (0: the workgroup has nothing to do).
fn valid_rows(h: u32, q0: u32) -> u32 {
  if (MODE == 2u) { return min(BQ, cnt[h] - min(q0, cnt[h])); }
  return min(BQ, p.S - min(q0, p.S));
}

fn plan_tiles(h: u32, q0: u32, nValid: u32) -> TilePlan {
  var pl: TilePlan;
  pl.last = row_of(h, q0, nValid - 1u);
  pl.W = 1u;
  pl.nTiles = pl.last / TILE_KEYS + 1u;
  if (MODE == 1u) {
    pl.count = cnt[h * 2u];
    pl.W = max(window_of(h), 1u);
    // Stripe keys any row of the block keeps: j + W <= last, a prefix of the ascending list.
    var lo = 0u;
    var hi = pl.count;
    while (lo < hi) {
      let mid = (lo + hi) / 2u;
      if (idx[h * p.S + mid] + pl.W <= pl.last) { lo = mid + 1u; } else { hi = mid; }
    }
    pl.stripeTiles = (lo + TILE_KEYS - 1u) / TILE_KEYS;
    if (q0 + 1u > pl.W) { pl.bandStart = q0 + 1u - pl.W; }
    pl.nTiles = pl.stripeTiles + (pl.last - pl.bandStart) / TILE_KEYS + 1u;
  }
  return pl;
}

// Key held in slot u of tile t (NONE when the slot is empty).
fn key_of(h: u32, t: u32, u: u32, pl: TilePlan) -> u32 {
  if (MODE == 1u) {
    if (t < pl.stripeTiles) {
      let slot = t * TILE_KEYS + u;
      if (slot < pl.count) { return idx[h * p.S + slot]; }
      return NONE;
    }
    let jb = pl.bandStart + (t - pl.stripeTiles) * TILE_KEYS + u;
    if (jb <= pl.last) { return jb; }
    return NONE;
  }
  let j = t * TILE_KEYS + u;
  if (j <= pl.last) { return j; }
  return NONE;
}
