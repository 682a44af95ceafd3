// Causal attention on tensor cores: the f16 twin of gpu/attention/tiled.wgsl, with the same
// bindings and modes (dense flash attention, the sparse SampleAttention pass, stage 1's sampled
// rows and column sums). q, k, v stay f32 in memory and are rounded to f16 as they are staged;
// scores, softmax, sums and outputs are f32. attention.ts prepends the matrix primitives and the
// constants D, DP, DPS, BKT, PS, MODE, WITH_V, VEC, and replaces the //@ lines with code unrolled
// over the 16 x 16 matrices.
//
// A workgroup of NSG = 4 subgroups owns BQ = 64 query rows of one head; subgroup sg owns rows
// 16 sg .. 16 sg + 15 and keeps their Q (f16, left operands) and O (f32 accumulators) in
// registers for the whole loop. Per key tile of BKT keys:
//   K tile -> sKV; S = Q K^T per subgroup -> sS (f32); softmax by thread pairs (threads 2r, 2r+1
//   own row r, half the tile's keys each) into P (f16) -> sP while V replaces K in sKV; O += P V.
// The softmax keeps a reference max m per row and exponentiates against it (p = exp(s - m));
// only when some row's tile max exceeds its m by more than TAU does the workgroup raise m and
// rescale O, l through workgroup memory (O's elements cannot be read in registers). So p <= e^TAU
// (fits f16) and the rescale, which real attention rows need in their first tiles, is rare after.
//
// MODE 0 (dense):  rows q0 .. q0 + BQ - 1, keys 0 .. last row, kept where j <= i.
// MODE 1 (sparse): the SampleAttention mask M (docs/SAMPLEATTENTION.md step 8), W = max(w, 1):
//   stripe tiles: the head's kept keys (ascending idx list), kept where j <= i and i - j >= W;
//   band tiles:   keys max(0, q0 - W + 1) .. last row, kept where j <= i and i - j < W.
// MODE 2 (stage-1 rows): query rows gathered from the head's sampled-row list; lse per slot.
// MODE 3 (blocks): the `blocks` variant's mask M (docs/SAMPLEATTENTION.md, "Variant `blocks`"):
//   MODE 0's key tiles, but a tile holding no entry of M is skipped whole (the exact tile test of
//   gpu/sample/blocks-mask.wgsl, also the f32 kernel's, so both visit the same tiles at the same
//   tile size), and inside a kept tile each entry is kept where j <= i and M_ij: the set of (i, j)
//   summed is exactly M. The kept flags are in idx; the tiles visited go to binding 5 (attention.ts
//   swaps its declaration); Params' nMax word is the block size b.
// column_sums (stage 1, step 4): c_j = sum over sampled rows i >= j of exp(scale q_i . k_j - lse_i).

const NSG: u32 = 4u;
const NT: u32 = 128u;
const BQ: u32 = 64u;
const NONE: u32 = 0xffffffffu;
const TILE_KEYS: u32 = BKT; // for gpu/attention/tiles.wgsl
const NEG: f32 = -1e30;
const HALF_NEG: f32 = -5e29;
const TAU: f32 = 8.0;          // rescale when a row's max grows by more than this (p <= e^8 < 65504)
const HALF_KEYS: u32 = BKT / 2u;
// sS row stride: 4 words of padding puts the rows of one subgroup's 16 thread pairs on different
// banks (with a row stride of BKT words, every thread of a warp hit the same bank: 32-way conflicts).
const SS: u32 = BKT + 4u;

//@BINDINGS_QKV
// Bindings 3 .. 8 (idx, cnt, win, out, lse, p): gpu/attention/tiles.wgsl.

var<workgroup> sQ: array<f16, BQ * DPS>;    // [row][dim]
var<workgroup> sKV: array<f16, BKT * DPS>;  // [key][dim]: K, then V of the same tile
var<workgroup> sS: array<f32, BQ * SS>;     // [row][key] scores (stride SS); also 16 x 16 scratch per subgroup
var<workgroup> sP: array<f16, BQ * PS>;     // [row][key] probabilities
var<workgroup> sCorr: array<f32, BQ>;
var<workgroup> sFlagA: atomic<u32>;
var<workgroup> sFlag: u32;

// q4(i, c), k4(j, c), v4(j, c): dims c .. c + 3 of a row, 0 past D (h / g select the head).
//@LOADERS

fn kept_flag(x: u32) -> bool { return idx[x] != 0u; } // MODE 3, for blocks-mask.wgsl

// Never true at run time: names every binding so both entry points have the same layout.
fn keep_bindings(lid: u32) {
  if (lid == NONE) { out[0] = lse[0] + f32(idx[0] + cnt[0] + win[0]) + q4(0u, 0u, 0u).x + k4(0u, 0u, 0u).x + v4(0u, 0u, 0u).x; }
}

// Rows q0 .. q0 + BQ - 1 of Q (gathered in MODE 2) into sQ as f16, zeros for missing rows / dims.
fn stage_q(h: u32, q0: u32, lid: u32) {
  for (var x = lid; x < BQ * (DP / 4u); x += NT) {
    let r = x / (DP / 4u);
    let c = 4u * (x % (DP / 4u));
    let i = row_of(h, q0, r);
    var val = vec4<f16>(0.0);
    if (i != NONE) { val = vec4<f16>(q4(h, i, c)); }
    let o = r * DPS + c;
    sQ[o] = val.x; sQ[o + 1u] = val.y; sQ[o + 2u] = val.z; sQ[o + 3u] = val.w;
  }
}

// Key j's K (or V) row into row u of sKV as f16 (zeros for NONE).
fn stage_kv(g: u32, u: u32, c: u32, j: u32, isV: bool) {
  var val = vec4<f16>(0.0);
  if (j != NONE) {
    if (isV) { val = vec4<f16>(v4(g, j, c)); } else { val = vec4<f16>(k4(g, j, c)); }
  }
  let o = u * DPS + c;
  sKV[o] = val.x; sKV[o + 1u] = val.y; sKV[o + 2u] = val.z; sKV[o + 3u] = val.w;
}

@compute @workgroup_size(NT)
fn attend(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  prim_init(lid);
  keep_bindings(lid);
  let S = p.S;
  let h = wid.y;
  let g = h / p.group;
  let q0 = (nwg.x - 1u - wid.x) * BQ; // the longest (last) query blocks start first
  let sg = lid / 32u;
  let lane = lid % 32u;
  let r = lid / 2u;          // the row this thread's softmax works on
  let half = lid % 2u;       // which half of the tile's keys
  let i = row_of(h, q0, r);

  let nValid = valid_rows(h, q0);
  if (nValid == 0u) { return; } // uniform: the whole workgroup leaves
  let pl = plan_tiles(h, q0, nValid);
  var bh: BlocksHead;
  if (MODE == 3u) { bh = blocks_head(h, nwg.y, p.nMax, S); }
  var visited = 0u; // MODE 3: key tiles not skipped

  stage_q(h, q0, lid);
  workgroupBarrier();
//@DECL
  var m = NEG;     // reference max of row r (both threads of the pair hold the same)
  var l = 0.0;     // this thread's share of row r's sum
  for (var t = 0u; t < pl.nTiles; t++) {
    if (MODE == 3u) {
      // Uniform (head, rows, tile and the read-only kept flags): the whole workgroup skips.
      let j0 = t * BKT;
      if (!tile_in_blocks_mask(bh, q0, pl.last, j0, min(j0 + BKT - 1u, pl.last))) { continue; }
      visited++;
    }
    workgroupBarrier(); // the previous tile's P and V are consumed
    if (lid == 0u) { atomicStore(&sFlagA, 0u); }
    for (var x = lid; x < BKT * (DP / 4u); x += NT) {
      let u = x / (DP / 4u);
      stage_kv(g, u, 4u * (x % (DP / 4u)), key_of(h, t, u, pl), false);
    }
    workgroupBarrier();
//@QK
    workgroupBarrier();
    // Scores of this thread's keys: scaled and masked in place; the row's tile max.
    var tmax = NEG;
    for (var uu = 0u; uu < HALF_KEYS; uu++) {
      let u = 2u * uu + half; // the pair interleaves its keys: the two threads hit neighbouring banks
      let j = key_of(h, t, u, pl);
      var keep = i != NONE && j != NONE && j <= i;
      if (MODE == 1u && keep) {
        let far = (i - j) >= pl.W;
        if (t < pl.stripeTiles) { keep = far; } else { keep = !far; }
      }
      if (MODE == 3u && keep) { keep = in_blocks_mask(bh, i, j); }
      let s = select(NEG, sS[r * SS + u] * p.scale, keep);
      sS[r * SS + u] = s;
      tmax = max(tmax, s);
    }
    tmax = max(tmax, subgroupShuffleXor(tmax, 1u));
    if (tmax > m + TAU) { atomicOr(&sFlagA, 1u); }
    if (WITH_V) {
      // K has been consumed by every subgroup (barrier above): V of the same keys replaces it.
      for (var x = lid; x < BKT * (DP / 4u); x += NT) {
        let u = x / (DP / 4u);
        stage_kv(g, u, 4u * (x % (DP / 4u)), key_of(h, t, u, pl), true);
      }
    }
    workgroupBarrier();
    if (lid == 0u) { sFlag = atomicLoad(&sFlagA); }
    let rescale = workgroupUniformLoad(&sFlag) != 0u;
    if (rescale) {
      let mn = max(m, tmax);
      let corr = exp(m - mn);
      l *= corr;
      m = mn;
      if (half == 0u) { sCorr[r] = corr; }
    }
    for (var uu = 0u; uu < HALF_KEYS; uu++) {
      let u = 2u * uu + half;
      let s = sS[r * SS + u];
      let pr = select(0.0, exp(s - m), s > HALF_NEG); // masked: exactly 0
      l += pr;
      sP[r * PS + u] = f16(pr);
    }
    workgroupBarrier();
    if (WITH_V) {
      if (rescale) {
//@RESCALE_O
      }
//@PV
    }
  }

  // Row sums of the pair; outputs through the per-subgroup scratch (lane 8 e.. of subgroup sg
  // holds row 16 sg + lane / 2 = r: the thread that owns that row's sum).
  l += subgroupShuffleXor(l, 1u);
  workgroupBarrier();
  if (WITH_V) {
//@STORE_O
  }
  if (half == 0u && i != NONE) {
    let val = m + log(l);
    if (MODE == 2u) { lse[h * p.nMax + q0 + r] = val; } else { lse[h * S + i] = val; }
  }
//@RECORD_TILES
}

// One 16 x 16 output tile (dims c0 ..) of subgroup sg from the scratch in sS to out, divided by l.
fn write_out(h: u32, i: u32, sg: u32, lane: u32, c0: u32, l: f32) {
  if (i == NONE) { return; }
  for (var t = 0u; t < 8u; t++) {
    let c = c0 + (lane % 2u) * 8u + t;
    if (c < D) { out[(h * p.S + i) * D + c] = sS[sg * 256u + lane * 8u + t] / l; }
  }
}

// Scales this lane's 8 scratch values (row 16 sg + lane / 2) by the row's correction.
fn scale_scratch(sg: u32, lane: u32) {
  let corr = sCorr[sg * 16u + lane / 2u];
  for (var t = 0u; t < 8u; t++) { sS[sg * 256u + lane * 8u + t] *= corr; }
}

// One workgroup per (key block of BKT keys, head): K stays in sKV while the sampled rows stream
// through in blocks of BQ; S = Q K^T per subgroup into sS; thread pairs (u, u + BKT) ... sum
// exp(s - lse_i) over their half of the block's rows for key u; partial sums added at the end.
@compute @workgroup_size(NT)
fn column_sums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  prim_init(lid);
  keep_bindings(lid);
  let S = p.S;
  let h = wid.y;
  let g = h / p.group;
  let j0 = wid.x * BKT;
  let sg = lid / 32u;
  let n = cnt[h];
  for (var x = lid; x < BKT * (DP / 4u); x += NT) {
    let u = x / (DP / 4u);
    var j = j0 + u;
    if (j >= S) { j = NONE; }
    stage_kv(g, u, 4u * (x % (DP / 4u)), j, false);
  }
  // Rows ascend: rows below j0 see none of this block's keys.
  var lo = 0u;
  var hi = n;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (idx[h * p.nMax + mid] < j0) { lo = mid + 1u; } else { hi = mid; }
  }
  let u = lid % BKT;            // this thread's key
  let part = lid / BKT;         // which share of the rows (NT / BKT shares)
  let parts = NT / BKT;
  let j = j0 + u;
  var acc = 0.0;
  for (var c0 = lo; c0 < n; c0 += BQ) {
    workgroupBarrier(); // the previous block's scores are consumed (and K staged, first time)
    stage_q(h, c0, lid);
    workgroupBarrier();
//@CS_QK
    workgroupBarrier();
    for (var rr = part; rr < BQ; rr += parts) {
      let slot = c0 + rr;
      if (slot >= n) { break; }
      let i = idx[h * p.nMax + slot];
      if (j <= i && j < S) { acc += exp(sS[rr * SS + u] * p.scale - lse[h * p.nMax + slot]); }
    }
  }
  workgroupBarrier();
  sS[part * BKT + u] = acc;
  workgroupBarrier();
  if (part == 0u && j < S) {
    var total = 0.0;
    for (var x = 0u; x < parts; x++) { total += sS[x * BKT + u]; }
    out[h * S + j] = total;
  }
}
