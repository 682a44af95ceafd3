// Block-sparse causal attention with the `blocks` variant's mask (docs/SAMPLEATTENTION.md,
// "Variant `blocks`", step 6):
//   M_ij = 1 if j <= i and (kept column block floor(j / b) or kept slash band floor((i - j) / b)).
// A workgroup owns BQ query rows of one head (one thread per row) and walks key tiles of BK keys.
// A tile with no entry of M is skipped whole (the exact tile test of blocks-mask.wgsl, prepended
// by the host wrapper); inside a kept tile every entry is masked by M itself, so the set of (i, j)
// added into O_i is exactly M. Softmax is online per tile (the
// tile's max first, then one correction), as in tiled.wgsl.
// Not register-tiled: one row per thread, K and V tiles in workgroup memory (a first, exact
// kernel; a MODE of tiled.wgsl can take its tile test later for speed).
// Prepended by blocks-sparse.ts: const D: u32 (head dim), const BK: u32 (keys per tile), and
// blocks-mask.wgsl.

const BQ: u32 = 64u;
const NEG: f32 = -1e30;
const HALF_NEG: f32 = -5e29;

@group(0) @binding(0) var<storage, read> q: array<f32>;              // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;              // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> v: array<f32>;              // (kvHeads, S, D)
@group(0) @binding(3) var<storage, read> kept: array<u32>;           // (2, heads, nb): 1 = column block / slash band kept
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // (heads, S, D)
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;      // (heads, S): log sum over M_i of exp(s_ij)
@group(0) @binding(6) var<storage, read_write> tiles: array<u32>;    // (heads, ceil(S / BQ)): key tiles visited
struct Params { S: u32, group: u32, scale: f32, b: u32, nb: u32, heads: u32, pad0: u32, pad1: u32 }
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> sK: array<f32, BK * D>;
var<workgroup> sV: array<f32, BK * D>;
var<workgroup> sKeep: u32;

fn kept_flag(x: u32) -> bool { return kept[x] != 0u; } // for blocks-mask.wgsl

@compute @workgroup_size(BQ)
fn attend(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let h = wid.y;
  let tileRow = nwg.x - 1u - wid.x; // the longest (last) query tiles start first
  let i0 = tileRow * BQ;
  let i1 = min(i0 + BQ, S) - 1u;
  let i = i0 + lid;
  let rowOk = i <= i1;
  let qBase = h * S * D;
  let kBase = (h / p.group) * S * D;
  let bh = blocks_head(h, p.heads, p.b, S);

  var qi: array<f32, D>;
  if (rowOk) { for (var c = 0u; c < D; c++) { qi[c] = q[qBase + i * D + c]; } }
  var o: array<f32, D>;
  var m = NEG;
  var l = 0.0;
  var visited = 0u;
  for (var j0 = 0u; j0 <= i1; j0 += BK) {
    let j1 = min(j0 + BK - 1u, i1);
    if (lid == 0u) { sKeep = select(0u, 1u, tile_in_blocks_mask(bh, i0, i1, j0, j1)); }
    let keepTile = workgroupUniformLoad(&sKeep);
    workgroupBarrier(); // every thread has read sKeep before thread 0 writes the next tile's
    if (keepTile == 0u) { continue; } // uniform: the whole workgroup skips
    visited++;
    for (var x = lid; x < BK * D; x += BQ) {
      let j = j0 + x / D;
      var kv = 0.0;
      var vv = 0.0;
      if (j <= j1) { kv = k[kBase + j * D + x % D]; vv = v[kBase + j * D + x % D]; }
      sK[x] = kv;
      sV[x] = vv;
    }
    workgroupBarrier();
    if (rowOk) {
      var s: array<f32, BK>;
      var mt = NEG;
      for (var u = 0u; u < BK; u++) {
        let j = j0 + u;
        var keep = j <= j1 && j <= i;
        if (keep) { keep = in_blocks_mask(bh, i, j); }
        var sc = NEG;
        if (keep) {
          var dot = 0.0;
          for (var c = 0u; c < D; c++) { dot += qi[c] * sK[u * D + c]; }
          sc = dot * p.scale;
        }
        s[u] = sc;
        mt = max(mt, sc);
      }
      let mn = max(m, mt);
      let corr = exp(m - mn);
      m = mn;
      l *= corr;
      for (var c = 0u; c < D; c++) { o[c] *= corr; }
      for (var u = 0u; u < BK; u++) {
        if (s[u] <= HALF_NEG) { continue; } // not in M: adds exactly nothing
        let e = exp(s[u] - mn);
        l += e;
        for (var c = 0u; c < D; c++) { o[c] += e * sV[u * D + c]; }
      }
    }
    workgroupBarrier(); // K and V of this tile consumed
  }
  if (rowOk) {
    // l > 0: band 0 holds the diagonal, so the diagonal's tile is never skipped.
    let inv = 1.0 / l;
    for (var c = 0u; c < D; c++) { out[(h * S + i) * D + c] = o[c] * inv; }
    lse[h * S + i] = m + log(l);
  }
  if (lid == 0u) { tiles[h * nwg.x + tileRow] = visited; }
}
