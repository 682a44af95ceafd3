// Causal attention on tensor cores, pipelined: the f16 twin of gpu/attention/tiled.wgsl, with the
// same bindings and modes (dense flash attention with log-sum-exp, the sparse SampleAttention
// pass, stage 1's sampled rows, the `blocks` mask), and stage 1's column scores (column_sums, at
// the end). q, k and v are f16 in memory (packed halves, read as they are) or f32 (rounded as they
// are staged: twice the bytes, and slower); scores, softmax, sums and outputs are f32. flash.ts prepends the matrix primitives and the constants D, DP, DV,
// KSV, BKT, SSV, PSV, NSG, SV_LEN, MODE, WITH_V, and replaces the //@ lines with code unrolled over
// the 16 x 16 matrices (//@LOAD_K(tile), //@LOAD_V(tile): that tile's K or V chunks of this thread
// into rk or rv).
//  - K and V tiles live in workgroup memory as packed halves (vec4<u32>, 8 halves an element, rows
//    padded by one element), written with 16-byte stores, in separate arrays (sK, sV);
//  - the next tiles are read from storage into registers while this one is computed, and written
//    to workgroup memory at the tile's first barrier B1 (after Q K_t^T): K_{t+1}, for the next
//    tile's scores, and V_t, for this tile's P V, since every subgroup is then done with the last
//    tile's P V as well. The uniform load that shares the rescale decision is the second barrier
//    (it makes P, V_t and K_{t+1} visible): two barrier points a tile, three barriers. (Writing
//    V_{t+1} after P V_t took a third barrier point; two K / V buffers, which dropped it, were
//    slower on the H200, 20.76 ms against 19.01 at d 64; both are in commit dc27caf.);
//  - Q is staged once through sP in chunks of BKT dimensions, so NSG = 8 subgroups (BQ = 128 rows
//    sharing each K / V tile) fit in 48 KiB at 32 keys a tile.
// (The first, staged kernel, attention.wgsl, took six barriers a tile and staged one f16 at a
// time; it is in commit 82b1501, its figures in docs/benchmarks.md.)
//
// Subgroup sg owns query rows 16 sg .. 16 sg + 15 of the block: their Q (f16 left operands) and O
// (f32 accumulators) stay in registers. Threads 2r and 2r + 1 run row r's softmax, each on half of
// the tile's keys (BKT / 2 in a row), read from sS in 16-byte loads, their probabilities written
// to sP as packed halves in 16-byte stores (at 32 keys, rows of 9 and 5 vec4s: the 8 threads of
// each quarter warp hit 8 different 16-byte banks). The softmax keeps a reference max m per row and
// exponentiates against it (p = exp(s - m), as exp2 of scores in log2 units); a row raises m
// only when a tile's max passes it by more than TAU, so p <= e^8 fits f16, and O, whose elements
// cannot be read in registers, is rescaled through workgroup memory only on a tile where some row
// raised it (rare after the first tiles; the workgroup decides with one uniform load).
//
// MODE 0 (dense):  rows q0 .. q0 + BQ - 1, keys 0 .. last row, kept where j <= i.
// MODE 1 (sparse): the SampleAttention mask M (docs/SAMPLEATTENTION.md step 8), W = max(w, 1):
//   stripe tiles: the head's kept keys (ascending idx list), kept where j <= i and i - j >= W;
//   band tiles:   keys max(0, q0 - W + 1) .. last row, kept where j <= i and i - j < W.
// MODE 2 (stage-1 rows): query rows gathered from the head's sampled-row list; lse per slot.
//   The keys are split into SPLIT ranges of tiles, one workgroup each (a head has few blocks of
//   sampled rows, each walking up to S keys: unsplit, a few hundred workgroups leave most of the
//   GPU idle while the longest walk runs); each writes its range's partial lse to out
//   (heads, SPLIT, nMax), and combine_rows merges them into lse (heads, nMax).
// MODE 3 (blocks): the `blocks` variant's mask M (docs/SAMPLEATTENTION.md, "Variant `blocks`"):
//   MODE 0's key tiles, but a tile holding no entry of M is skipped whole (the exact tile test of
//   gpu/sample/blocks-mask.wgsl, also the f32 kernel's, so both visit the same tiles at the same
//   64 x 32 tile), and inside a kept tile each entry is kept where j <= i and M_ij: the set of
//   (i, j) summed is exactly M. The kept flags are in idx; the tiles visited go to binding 5
//   (flash.ts swaps its declaration); Params' nMax word is the block size b.

const NT: u32 = NSG * 32u;
const BQ: u32 = NSG * 16u;
const NONE: u32 = 0xffffffffu;
const TILE_KEYS: u32 = BKT; // for gpu/attention/tiles.wgsl
const NEG: f32 = -1e30;
const HALF_NEG: f32 = -5e29;
// Scores are kept in log2 units (scale log2(e) q . k), so the softmax exponentiates with exp2.
const LOG2E: f32 = 1.4426950408889634;
const LN2: f32 = 0.6931471805599453;
const TAU: f32 = 8.0 * LOG2E;  // raise a row's max when a tile's exceeds it by more than this (p <= e^8 < 65504)
const KV_PER: u32 = (BKT * DV + NT - 1u) / NT; // 8-half chunks of a K (or V) tile per thread

//@BINDINGS_QKV
// Bindings 3 .. 8 (idx, cnt, win, out, lse, p): gpu/attention/tiles.wgsl.

// Every array a matrix is read from is an array of blocks (primitives.ts, `blocked`): a load
// names its block (a buffer, or a subgroup's 16 rows) and a constant offset and stride, which the
// bounds checks prove in range at compile time.
var<workgroup> sK: array<array<vec4<u32>, BKT * KSV>, 1>; // [one block][key][dim / 8] packed halves
var<workgroup> sV: array<array<vec4<u32>, SV_LEN>, 1>;    // [one block][key][dim / 8] (1 element without V)
// sS and sP are arrays of 16-byte elements, so each starts 16-byte aligned whatever order the
// driver lays workgroup variables out in. As array<f32> and array<f16> (beside the 4-byte flags)
// every attention test failed on the H200 with Dawn's bounds checks off, and passed with them on;
// as 16-byte types every test passes both ways. The likely cause: matrix loads and stores
// compiled for aligned addresses (Vulkan asks aligned pointers of cooperative-matrix loads) on an
// array the driver had placed 4 or 8 bytes off, which the checked code path happened to tolerate.
var<workgroup> sS: array<array<vec4<f32>, 16u * SSV>, NSG>; // [row / 16][row % 16][key / 4] scores; also a 16 x 16 f32 scratch per subgroup
var<workgroup> sP: array<array<vec4<u32>, 16u * PSV>, NSG>; // [row / 16][row % 16][key / 8] probabilities as packed halves; Q chunks while staging
var<workgroup> sCorr: array<f32, BQ>;               // row r's factor exp(m_old - m_new) of this tile
var<workgroup> sJ: array<u32, 4u * BKT>;          // MODE 1: the keys of tiles t .. t + 3, tile u in ring slot u % 4
var<workgroup> sFlag: atomic<u32>;                  // 1 when some row raised its max this tile

// q8(h, i, c), k8(g, j, c), v8(g, j, c): dims c .. c + 7 of a query or key row as packed halves, 0
// past D (f16 q / K / V: one 16-byte load; f32: two, rounded).
//@LOADERS

fn kept_flag(x: u32) -> bool { return idx[x] != 0u; } // MODE 3, for blocks-mask.wgsl

// Never true at run time: names every binding so the module has one layout in every mode.
fn keep_bindings(lid: u32) {
  if (lid == NONE) { out[0] = lse[0] + f32(idx[0] + cnt[0] + win[0] + q8(0u, 0u, 0u).x + k8(0u, 0u, 0u).x + v8(0u, 0u, 0u).x); }
}

fn pack8(a: vec4<f32>, b: vec4<f32>) -> vec4<u32> {
  let x = vec4<f16>(a);
  let y = vec4<f16>(b);
  return vec4<u32>(bitcast<u32>(x.xy), bitcast<u32>(x.zw), bitcast<u32>(y.xy), bitcast<u32>(y.zw));
}

// Chunk e of a tile (key slot e / DV, dims 8 (e % DV) ..) of K or V as packed halves, 0 for NONE.
// MODE 1 reads the tile's keys from its ring slot of sJ (written at least one barrier before), so
// the K / V load does not wait on a load of the key list from storage first. (Reading the list
// beside each chunk, the sparse pass took 4.29 ms at d 128, S 32768 on the H200; a probe with
// contiguous keys and no list read took 3.45: PART=19, probe p2.)
fn kv_chunk(g: u32, h: u32, t: u32, e: u32, pl: TilePlan, isV: bool) -> vec4<u32> {
  var j: u32;
  if (MODE == 1u) { j = sJ[(t % 4u) * BKT + e / DV]; } else { j = key_of(h, t, e / DV, pl); }
  if (j == NONE) { return vec4<u32>(0u); }
  let c = 8u * (e % DV);
  if (isV) { return v8(g, j, c); }
  return k8(g, j, c);
}

// Dims c0 .. c0 + BKT - 1 of the block's Q rows (gathered in MODE 2) into sP as f16, zeros outside.
fn stage_q_chunk(h: u32, q0: u32, lid: u32, c0: u32) {
  for (var x = lid; x < BQ * (BKT / 8u); x += NT) {
    let r = x / (BKT / 8u);
    let c = 8u * (x % (BKT / 8u));
    let i = row_of(h, q0, r);
    var val = vec4<u32>(0u);
    if (i != NONE && c0 + c < DP) { val = q8(h, i, c0 + c); }
    sP[r / 16u][(r % 16u) * PSV + c / 8u] = val;
  }
}

// Row i's scaled score of slot u of tile t (raw: its product, read from sS), NEG outside the
// mode's mask; kb: MODE 1's ring slot of sJ (t % 4), tm: MODE 3's tile mask.
fn masked_score(h: u32, t: u32, u: u32, i: u32, pl: TilePlan, bh: BlocksHead, kb: u32, tm: TileMask, raw: f32) -> f32 {
  var j: u32;
  if (MODE == 1u) { j = sJ[kb * BKT + u]; } else { j = key_of(h, t, u, pl); }
  var keep = i != NONE && j != NONE && j <= i;
  if (MODE == 1u && keep) {
    let far = (i - j) >= pl.W;
    if (t < pl.stripeTiles) { keep = far; } else { keep = !far; }
  }
  if (MODE == 3u && keep) { keep = in_tile_mask(tm, bh, i, j); }
  return select(NEG, raw * (p.scale * LOG2E), keep);
}

// The tile after t that holds work (MODE 3 skips tiles without an entry of the mask; uniform).
fn next_tile(t: u32, pl: TilePlan, bh: BlocksHead, q0: u32) -> u32 {
  var n = t + 1u;
  if (MODE == 3u) {
    while (n < pl.nTiles) {
      let j0 = n * BKT;
      if (tile_in_blocks_mask(bh, q0, pl.last, j0, min(j0 + BKT - 1u, pl.last))) { break; }
      n++;
    }
  }
  return n;
}

@compute @workgroup_size(NT)
fn attend(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  prim_init(lid);
  keep_bindings(lid);
  let h = wid.y;
  let g = h / p.group;
  // The longest (last) query blocks start first; MODE 2's SPLIT key ranges of a block side by side.
  let split = wid.x % SPLIT;
  let q0 = (nwg.x / SPLIT - 1u - wid.x / SPLIT) * BQ;
  let sg = lid / 32u;
  let lane = lid % 32u;
  let r = lid / 2u;          // the row this thread's softmax works on
  let half = lid % 2u;       // which half of the tile's keys (half * BKT / 2 ..)
  let i = row_of(h, q0, r);

  let nValid = valid_rows(h, q0);
  if (nValid == 0u) { return; } // uniform: the whole workgroup leaves
  var pl = plan_tiles(h, q0, nValid);
  // MODE 2 split: this workgroup's range of key tiles, `per` of them from split * per.
  var t = 0u;
  if (SPLIT > 1u) {
    let per = (p.S + SPLIT * BKT - 1u) / (SPLIT * BKT);
    t = min(split * per, pl.nTiles);
    pl.nTiles = min(pl.nTiles, t + per);
  }
  var bh: BlocksHead;
  if (MODE == 3u) { bh = blocks_head(h, nwg.y, p.nMax, p.S); }
  var visited = 0u; // MODE 3: key tiles not skipped

  // Q into registers, BKT dimensions at a time through sP.
//@STAGE_Q
  var rk: array<vec4<u32>, KV_PER>;
  var rv: array<vec4<u32>, KV_PER>;
  // The first tile with work: its K into sK, its V into registers (written to sV at the loop's
  // B1, once every subgroup is done with the last tile's P V); the next tile's K into registers.
  if (MODE == 3u) { t = next_tile(NONE, pl, bh, q0); } // NONE + 1 wraps to 0
  var tn = next_tile(t, pl, bh, q0);
  if (lid == 0u) { atomicStore(&sFlag, 0u); }
  // Tiles of keys j <= every row of the block (rows ascend: row 0 is the first) skip the mask.
  let firstRow = row_of(h, q0, 0u);
  let sc2 = p.scale * LOG2E;
  // MODE 1's keys come from the head's kept list in storage: each tile's are read once, by
  // threads lid < BKT, three tiles ahead (into rj, written to the ring at the tile's B1), so the
  // K / V loads and the scores of a tile read them from sJ. Tiles t, t + 1 and t + 2 first.
  var rj = NONE;
  if (MODE == 1u) {
    if (lid < BKT) {
      for (var a = 0u; a < 3u; a++) {
        var key = NONE;
        if (t + a < pl.nTiles) { key = key_of(h, t + a, lid, pl); }
        sJ[((t + a) % 4u) * BKT + lid] = key;
      }
      if (t + 3u < pl.nTiles) { rj = key_of(h, t + 3u, lid, pl); }
    }
    workgroupBarrier();
  }
  for (var x = 0u; x < KV_PER; x++) {
    let e = lid + x * NT;
    if (e < BKT * DV && t < pl.nTiles) { sK[0][(e / DV) * KSV + e % DV] = kv_chunk(g, h, t, e, pl, false); }
  }
//@LOAD_K(tn)
//@LOAD_V(t)
  workgroupBarrier();

  var m = NEG;     // reference max of row r (both threads of the pair hold the same)
  var l = 0.0;     // this thread's share of row r's sum
  while (t < pl.nTiles) {
    visited++;
    let kb = t % 4u; // MODE 1: this tile's ring slot of sJ
//@QK
    // B1: scores visible; every subgroup is done with this tile's K (K_{t+1} may replace it) and
    // with tile t - 1's P V (V_t may replace V_{t-1}, and sP be rewritten).
    workgroupBarrier();
    for (var x = 0u; x < KV_PER; x++) {
      let e = lid + x * NT;
      if (e < BKT * DV) {
        if (tn < pl.nTiles) { sK[0][(e / DV) * KSV + e % DV] = rk[x]; }
        if (WITH_V) { sV[0][(e / DV) * KSV + e % DV] = rv[x]; }
      }
    }
    // Tile t + 3's keys into the slot of tile t - 1, last read in its scores, before this B1.
    if (MODE == 1u && lid < BKT) { sJ[((t + 3u) % 4u) * BKT + lid] = rj; }
    // K of the tile after next and V of the next into registers: in flight through this tile's
    // softmax and P V and the next tile's Q K^T.
    let tn2 = next_tile(tn, pl, bh, q0);
//@LOAD_K(tn2)
//@LOAD_V(tn)
    if (MODE == 1u && lid < BKT) { rj = NONE; if (t + 4u < pl.nTiles) { rj = key_of(h, t + 4u, lid, pl); } }
    // A full tile: every row of the block keeps every key of it, so the mask is skipped. MODE 0
    // and 2: keys below the first row. MODE 1: a stripe tile of 32 kept keys all beyond the first
    // row's window (ascending: the last is the largest), or a band tile of keys below the first
    // row and within the last row's window.
    var full = (MODE == 0u || MODE == 2u) && (t + 1u) * BKT <= firstRow + 1u;
    if (MODE == 1u) {
      if (t < pl.stripeTiles) {
        full = (t + 1u) * BKT <= pl.count && sJ[kb * BKT + BKT - 1u] + pl.W <= firstRow;
      } else {
        let j0 = pl.bandStart + (t - pl.stripeTiles) * BKT;
        full = j0 + BKT <= firstRow + 1u && pl.last - j0 < pl.W;
      }
    }
    // Scores of this thread's keys, scaled and masked; the row's tile max.
    var tm: TileMask; // MODE 3: the tile's kept blocks and bands (uniform)
    if (MODE == 3u) { tm = tile_mask(bh, q0, pl.last, t * BKT, min(t * BKT + BKT - 1u, pl.last)); }
    // The thread's BKT / 2 scores stay in registers (s0, s1, ..., unrolled by flash.ts): read
    // from sS once, 4 at a time, never written back.
    var tmax = NEG;
//@SCORES
    tmax = max(tmax, subgroupShuffleXor(tmax, 1u));
    // Row by row: raise m when the tile's max passes it by more than TAU (both threads of the
    // pair decide alike); O's share of the factor waits for the workgroup's decision below.
    var corr = 1.0;
    if (tmax > m + TAU) {
      corr = exp2(m - tmax);
      m = tmax;
      l *= corr;
      atomicOr(&sFlag, 1u);
    }
    if (WITH_V && half == 0u) { sCorr[r] = corr; }
    // p = exp(s - m) (= exp2 of the log2-unit scores), masked entries exactly 0 (unrolled as above).
//@PROBS
    if (WITH_V) {
      // B2, the uniform load's two barriers: P, sCorr, V_t and K_{t+1} visible, and the flag read
      // by every thread alike. Cleared after the second barrier (all have read it), before lid 0
      // reaches the next B1 (after which the next tile's rows may set it).
      let rescale = workgroupUniformLoad(&sFlag) != 0u;
      if (lid == 0u) { atomicStore(&sFlag, 0u); }
      if (rescale) {
//@RESCALE_O
      }
//@PV
    } else {
      workgroupBarrier(); // B2: sS consumed, K_{t+1} visible
    }
    t = tn;
    tn = tn2;
  }

  // Row sums of the pair; outputs through the per-subgroup scratch (lane l of subgroup sg holds
  // row 16 sg + l / 2 = r: the thread that owns that row's sum).
  l += subgroupShuffleXor(l, 1u);
  workgroupBarrier();
  if (WITH_V) {
//@STORE_O
  }
  if (half == 0u && i != NONE) {
    let val = select(NEG, (m + log2(l)) * LN2, l > 0.0); // natural log; NEG: a split range without keys of this row
    if (MODE == 2u && SPLIT > 1u) { out[(h * SPLIT + split) * p.nMax + q0 + r] = val; }
    else if (MODE == 2u) { lse[h * p.nMax + q0 + r] = val; }
    else { lse[h * p.S + i] = val; }
  }
//@RECORD_TILES
}

// One 16 x 16 output tile (dims c0 ..) of subgroup sg from the scratch in sS to out, divided by l.
fn write_out(h: u32, i: u32, sg: u32, lane: u32, c0: u32, l: f32) {
  if (i == NONE) { return; }
  for (var t = 0u; t < 8u; t++) {
    let c = c0 + (lane % 2u) * 8u + t;
    if (c < D) { out[(h * p.S + i) * D + c] = sS[sg][lane * 2u + t / 4u][t % 4u] / l; }
  }
}

// Scales this lane's 8 scratch values (row 16 sg + lane / 2) by the row's factor.
fn scale_scratch(sg: u32, lane: u32) {
  let corr = sCorr[sg * 16u + lane / 2u];
  sS[sg][lane * 2u] *= corr;
  sS[sg][lane * 2u + 1u] *= corr;
}

// MODE 2 split: lse_i = log(sum over the SPLIT ranges of exp(partial)), from the largest partial
// (every row has key 0, so some partial is finite). One thread per (slot, head).
@compute @workgroup_size(64)
fn combine_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let slot = gid.x;
  let h = gid.y;
  if (slot >= cnt[h]) { return; }
  var mx = NEG;
  for (var x = 0u; x < SPLIT; x++) { mx = max(mx, out[(h * SPLIT + x) * p.nMax + slot]); }
  var sum = 0.0;
  for (var x = 0u; x < SPLIT; x++) { sum += exp(out[(h * SPLIT + x) * p.nMax + slot] - mx); }
  lse[h * p.nMax + slot] = mx + log(sum);
}

// Stage 1's column scores (docs/SAMPLEATTENTION.md step 4), pipelined like attend:
// c_j = sum over sampled rows i >= j of exp(scale q_i . k_j - lse_i). One workgroup per (key tile
// of BKT keys, head): K stays in sK while the sampled rows stream through sQ in blocks of BQ as
// packed halves, the block after next read into registers while this one is summed and the next
// multiplied (its row indices a block earlier still); two barriers a block; the K tile's matrices
// are read from sK once, into registers. Threads (u4, part) sum keys
// 4 u4 .. 4 u4 + 3 (one 16-byte load of scores a row) over every (4 NT / BKT)-th row of a block.
const Q_PER: u32 = (BQ * DV + NT - 1u) / NT; // 8-half chunks of a Q block per thread
var<workgroup> sQ: array<array<vec4<u32>, 16u * KSV>, NSG>; // [row / 16][row % 16][dim / 8] packed halves (column_sums only)
// Row index and lse of each slot of the block in sQ, double-buffered (written with the next block
// while this one is summed), so the inner sum reads workgroup memory, not storage.
var<workgroup> sRowI: array<u32, 2u * BQ>;
var<workgroup> sRowL: array<f32, 2u * BQ>;

// Row index (NONE past the head's n rows) and lse of slot `slot`.
fn row_entry(h: u32, slot: u32, n: u32) -> vec2<u32> {
  if (slot >= n) { return vec2<u32>(NONE, 0u); }
  return vec2<u32>(idx[h * p.nMax + slot], bitcast<u32>(lse[h * p.nMax + slot]));
}

// Row index of slot `slot` (NONE past the head's n rows), and dims c .. c + 7 of row i (zeros
// for NONE): the loop reads a block's row indices one block before its q rows, so a q load never
// waits on a load of the row list.
fn slot_row(h: u32, slot: u32, n: u32) -> u32 {
  if (slot >= n) { return NONE; }
  return idx[h * p.nMax + slot];
}
fn row_chunk(h: u32, i: u32, c: u32) -> vec4<u32> {
  if (i == NONE) { return vec4<u32>(0u); }
  return q8(h, i, c);
}

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
  for (var x = lid; x < BKT * DV; x += NT) {
    let j = j0 + x / DV;
    var val = vec4<u32>(0u);
    if (j < S) {
      let c = 8u * (x % DV);
      val = k8(g, j, c);
    }
    sK[0][(x / DV) * KSV + x % DV] = val;
  }
  // Rows ascend: rows below j0 see none of this tile's keys.
  var lo = 0u;
  var hi = n;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (idx[h * p.nMax + mid] < j0) { lo = mid + 1u; } else { hi = mid; }
  }
  let u4 = lid % (BKT / 4u);   // this thread's keys: j0 + 4 u4 .. + 3 (one 16-byte load of scores a row)
  let part = lid / (BKT / 4u);
  let parts = NT / (BKT / 4u);
  let j = j0 + 4u * u4;
  let js = vec4<u32>(j) + vec4<u32>(0u, 1u, 2u, 3u);
  let sc2 = p.scale * LOG2E; // exp(scale s - lse) = exp2(sc2 s - lse log2(e)): sRowL holds lse log2(e)
  var acc = vec4<f32>(0.0);
  var rq: array<vec4<u32>, Q_PER>; // this thread's q chunks of the next block
  var ri: array<u32, Q_PER>;       // the row indices of its chunks in the block after
  var rRow = vec2<u32>(NONE, 0u); // threads lid < BQ: the next block's slot lid
  var c0 = lo;
  var buf = 0u;
  for (var x = 0u; x < Q_PER; x++) {
    let e = lid + x * NT;
    if (e < BQ * DV) {
      let c = 8u * (e % DV);
      sQ[e / DV / 16u][(e / DV % 16u) * KSV + e % DV] = row_chunk(h, slot_row(h, c0 + e / DV, n), c);
      rq[x] = row_chunk(h, slot_row(h, c0 + BQ + e / DV, n), c);
      ri[x] = slot_row(h, c0 + 2u * BQ + e / DV, n);
    }
  }
  if (lid < BQ) {
    let e = row_entry(h, c0 + lid, n);
    sRowI[lid] = e.x;
    sRowL[lid] = bitcast<f32>(e.y) * LOG2E;
    rRow = row_entry(h, c0 + BQ + lid, n);
  }
  workgroupBarrier();
//@CS_K
  while (c0 < n) {
//@CS_QK
    workgroupBarrier(); // scores visible; every subgroup is done with sQ
    if (c0 + BQ < n) {
      for (var x = 0u; x < Q_PER; x++) {
        let e = lid + x * NT;
        if (e < BQ * DV) { sQ[e / DV / 16u][(e / DV % 16u) * KSV + e % DV] = rq[x]; }
      }
      // The other buffer was last read before the previous block's second barrier.
      if (lid < BQ) {
        sRowI[(buf ^ 1u) * BQ + lid] = rRow.x;
        sRowL[(buf ^ 1u) * BQ + lid] = bitcast<f32>(rRow.y) * LOG2E;
      }
    }
    // The block after next into registers now, not after this block's sums: its loads have the
    // sums and the next block's products to land in (rq is free once written to sQ); its row
    // indices were read a block ago.
    if (c0 + 2u * BQ < n) {
      for (var x = 0u; x < Q_PER; x++) {
        let e = lid + x * NT;
        if (e < BQ * DV) {
          rq[x] = row_chunk(h, ri[x], 8u * (e % DV));
          ri[x] = slot_row(h, c0 + 3u * BQ + e / DV, n);
        }
      }
      if (lid < BQ) { rRow = row_entry(h, c0 + 2u * BQ + lid, n); }
    }
    if (j < S) {
      for (var rr = part; rr < BQ; rr += parts) {
        let i = sRowI[buf * BQ + rr];
        if (i != NONE && j <= i) {
          let e = exp2(sS[rr / 16u][(rr % 16u) * SSV + u4] * sc2 - sRowL[buf * BQ + rr]);
          acc += select(vec4<f32>(0.0), e, js <= vec4<u32>(i));
        }
      }
    }
    workgroupBarrier(); // scores consumed; the next block visible
    c0 += BQ;
    buf ^= 1u;
  }
  let x0 = part * (BKT / 4u) + u4; // NT vec4s, counted flat over sS's blocks
  sS[x0 / (16u * SSV)][x0 % (16u * SSV)] = acc;
  workgroupBarrier();
  if (part == 0u && j < S) {
    var total = vec4<f32>(0.0);
    for (var x = 0u; x < parts; x++) { let xi = x * (BKT / 4u) + u4; total += sS[xi / (16u * SSV)][xi % (16u * SSV)]; }
    for (var e = 0u; e < 4u; e++) { if (j + e < S) { out[h * S + j + e] = total[e]; } }
  }
}
