// Register-tiled causal attention, the one inner loop behind dense flash attention, the sparse
// SampleAttention pass and stage 1 (tiled.ts prepends the constants TX, TY, D, NE, MODE, WITH_V).
// A workgroup of TX x TY threads owns BQ = 4 TY query rows of one head and walks key tiles of
// BK = 4 TX keys with an online softmax. Thread (tx, ty) owns a 4 x 4 register tile of the scores
// (rows 4 ty .. 4 ty + 3, keys 4 tx .. 4 tx + 3) and, for the output, the same 4 rows times the
// padded dims {4 (tx + TX e) .. + 3 : e < NE} (DP = 4 TX NE >= D; V is zero padded past D).
// Workgroup memory (f32 words): Q^T D x BQ, then one buffer holding K^T (D x BK) and afterwards
// V (BK x DP), and P^T (BK x BQ), whose first BQ x TX words also carry the row-max exchange.
//
// MODE 0 (dense):  rows q0 .. q0 + BQ - 1, keys 0 .. last row, kept where j <= i.
// MODE 1 (sparse): the SampleAttention mask M (docs/SAMPLEATTENTION.md step 8), W = max(w, 1):
//   stripe tiles: the head's kept keys (ascending idx list), kept where j <= i and i - j >= W;
//   band tiles:   keys max(0, q0 - W + 1) .. last row, kept where j <= i and i - j < W;
//   the conditions are complementary, so a key in both sets is added once.
// MODE 2 (stage-1 rows): query rows gathered from the head's sampled-row list (idx, cnt), keys as
//   dense; writes the log-sum-exp of each sampled slot.
// column_sums (stage 1, step 4): c_j = sum over sampled rows i >= j of exp(scale q_i . k_j - lse_i).

const BQ: u32 = 4u * TY;
const BK: u32 = 4u * TX;
const NT: u32 = TX * TY;
const VR: u32 = TX * NE; // vec4s per padded V row (DP / 4)
const D4: u32 = (D + 3u) / 4u; // groups of 4 dims
const NONE: u32 = 0xffffffffu;
const TILE_KEYS: u32 = BK; // for tiles.wgsl
const NEG: f32 = -1e30; // "minus infinity" that keeps exp(NEG - NEG) finite
const HALF_NEG: f32 = -5e29;

@group(0) @binding(0) var<storage, read> q: array<f32>;          // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;          // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> v: array<f32>;          // (kvHeads, S, D); unread without WITH_V
// Bindings 3 .. 8 (idx, cnt, win, out, lse, p): gpu/attention/tiles.wgsl.

var<workgroup> sQ: array<vec4<f32>, D * TY>;  // [c][row / 4]
var<workgroup> sKV: array<vec4<f32>, KV_LEN>; // K^T [c][key / 4], later V [key][dim / 4]
var<workgroup> sP: array<vec4<f32>, BK * TY>; // P^T [key][row / 4]; row-max / sum exchange [tx][row / 4]

// Never true at run time: names every binding so every entry point has the same layout.
fn keep_bindings(lid: u32) {
  if (lid == NONE) { out[0] = v[0] + q[0] + k[0] + lse[0] + f32(idx[0] + cnt[0] + win[0]); }
}

// Q^T of rows q0 .. q0 + BQ - 1 (gathered in MODE 2) into sQ, zeros for missing rows. Consecutive
// threads take consecutive rows (4 dims each), so their stores hit consecutive banks.
fn load_q(h: u32, q0: u32, lid: u32) {
  let qBase = h * p.S * D;
  for (var x = lid; x < BQ * D4; x += NT) {
    let r = x % BQ;
    let c0 = 4u * (x / BQ);
    let i = row_of(h, q0, r);
    for (var e = 0u; e < 4u; e++) {
      let c = c0 + e;
      if (c >= D) { break; }
      var val = 0.0;
      if (i != NONE) { val = q[qBase + i * D + c]; }
      sQ[c * TY + r / 4u][r % 4u] = val;
    }
  }
}

// K^T of key j (NONE: zeros) for dims c0 .. c0 + 3 into column u of sKV; callers give consecutive
// threads consecutive u, so the transposed stores hit consecutive banks.
fn store_k4(kBase: u32, u: u32, c0: u32, j: u32) {
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + e;
    if (c >= D) { break; }
    var val = 0.0;
    if (j != NONE) { val = k[kBase + j * D + c]; }
    sKV[c * TX + u / 4u][u % 4u] = val;
  }
}

// Row-block slot of key u in P^T: XOR-swizzled so the 4 x 4 stores of a warp spread over the banks
// (threads tx write keys 4 tx .. 4 tx + 3 of one row block; unswizzled they share one bank).
fn p_slot(u: u32, ty: u32) -> u32 {
  return u * TY + (ty ^ ((u / 4u) % TY));
}

// s[b][r] = sum_c Q[4 ty + r][c] K[4 tx + b][c] from workgroup memory.
fn qk_tile(tx: u32, ty: u32) -> array<vec4<f32>, 4> {
  var s: array<vec4<f32>, 4>;
  for (var c = 0u; c < D; c++) {
    let qv = sQ[c * TY + ty];
    let kv = sKV[c * TX + tx];
    s[0] += qv * kv.x;
    s[1] += qv * kv.y;
    s[2] += qv * kv.z;
    s[3] += qv * kv.w;
  }
  return s;
}

@compute @workgroup_size(NT)
fn attend(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let S = p.S;
  let h = wid.y;
  let kBase = (h / p.group) * S * D;
  let q0 = (nwg.x - 1u - wid.x) * BQ; // the longest (last) query blocks start first
  let tx = lid % TX;
  let ty = lid / TX;
  let rows = vec4<u32>(row_of(h, q0, 4u * ty), row_of(h, q0, 4u * ty + 1u), row_of(h, q0, 4u * ty + 2u), row_of(h, q0, 4u * ty + 3u));
  let rowOk = rows != vec4<u32>(NONE);

  let nValid = valid_rows(h, q0);
  if (nValid == 0u) { return; } // uniform: the whole workgroup leaves
  let pl = plan_tiles(h, q0, nValid);

  load_q(h, q0, lid);
  var m = vec4<f32>(NEG);
  var l = vec4<f32>(0.0); // this thread's share of each row's sum (its keys only)
  var o: array<vec4<f32>, 4u * NE>; // o[r * NE + e]: row 4 ty + r, dims 4 (tx + TX e) .. + 3
  for (var t = 0u; t < pl.nTiles; t++) {
    workgroupBarrier(); // the previous tile's P and V are consumed
    for (var x = lid; x < BK * D4; x += NT) {
      let u = x % BK;
      store_k4(kBase, u, 4u * (x / BK), key_of(h, t, u, pl));
    }
    workgroupBarrier();
    var s = qk_tile(tx, ty);
    var mloc = vec4<f32>(NEG);
    for (var b = 0u; b < 4u; b++) {
      let j = key_of(h, t, 4u * tx + b, pl);
      let jv = vec4<u32>(j);
      var keep = rowOk & (jv <= rows);
      if (MODE == 1u) {
        let far = (rows - jv) >= vec4<u32>(pl.W); // only read where jv <= rows
        if (t < pl.stripeTiles) { keep = keep & far; } else { keep = keep & !far; }
      }
      s[b] = select(vec4<f32>(NEG), s[b] * p.scale, keep);
      mloc = max(mloc, s[b]);
    }
    sP[tx * TY + ty] = mloc;
    workgroupBarrier();
    var mn = m;
    for (var x = 0u; x < TX; x++) { mn = max(mn, sP[x * TY + ty]); }
    let corr = exp(m - mn);
    m = mn;
    l *= corr;
    for (var b = 0u; b < 4u; b++) {
      s[b] = select(vec4<f32>(0.0), exp(s[b] - mn), s[b] > vec4<f32>(HALF_NEG)); // masked: exactly 0
      l += s[b];
    }
    if (WITH_V) {
      for (var e = 0u; e < 4u * NE; e++) { o[e] *= corr[e / NE]; }
      workgroupBarrier(); // every thread has read the row maxima and finished with K
      for (var b = 0u; b < 4u; b++) { sP[p_slot(4u * tx + b, ty)] = s[b]; }
      for (var x = lid; x < BK * VR * 4u; x += NT) {
        let u = x / (VR * 4u);
        let c = x % (VR * 4u);
        let j = key_of(h, t, u, pl);
        var val = 0.0;
        if (j != NONE && c < D) { val = v[kBase + j * D + c]; }
        sKV[u * VR + c / 4u][c % 4u] = val;
      }
      workgroupBarrier();
      for (var u = 0u; u < BK; u++) {
        let pv = sP[p_slot(u, ty)];
        for (var e = 0u; e < NE; e++) {
          let vv = sKV[u * VR + tx + TX * e];
          o[e] += pv.x * vv;
          o[NE + e] += pv.y * vv;
          o[2u * NE + e] += pv.z * vv;
          o[3u * NE + e] += pv.w * vv;
        }
      }
    }
  }

  // Row sums: add the TX threads' shares in a fixed order.
  workgroupBarrier();
  sP[tx * TY + ty] = l;
  workgroupBarrier();
  var total = vec4<f32>(0.0);
  for (var x = 0u; x < TX; x++) { total += sP[x * TY + ty]; }
  for (var r = 0u; r < 4u; r++) {
    let i = rows[r];
    if (i == NONE) { continue; }
    if (WITH_V) {
      let inv = 1.0 / total[r];
      for (var e = 0u; e < NE; e++) {
        let val = o[r * NE + e] * inv;
        let c0 = 4u * (tx + TX * e);
        for (var cc = 0u; cc < 4u; cc++) {
          if (c0 + cc < D) { out[(h * S + i) * D + c0 + cc] = val[cc]; }
        }
      }
    }
    if (tx == 0u) {
      let val = m[r] + log(total[r]);
      if (MODE == 2u) { lse[h * p.nMax + q0 + 4u * ty + r] = val; } else { lse[h * S + i] = val; }
    }
  }
}

// One workgroup per (key block of BK keys, head): K^T stays in workgroup memory while the sampled
// rows stream through in blocks of BQ; thread (tx, ty) sums p over its 4 rows of each block for its
// 4 keys, and the TY partial sums of a key are added in a fixed order at the end (no atomics).
@compute @workgroup_size(NT)
fn column_sums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let S = p.S;
  let h = wid.y;
  let j0 = wid.x * BK;
  let kBase = (h / p.group) * S * D;
  let tx = lid % TX;
  let ty = lid / TX;
  let n = cnt[h];
  for (var x = lid; x < BK * D4; x += NT) {
    let u = x % BK;
    var j = j0 + u;
    if (j >= S) { j = NONE; }
    store_k4(kBase, u, 4u * (x / BK), j);
  }
  // Rows ascend: rows below j0 see none of this block's keys.
  var lo = 0u;
  var hi = n;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (idx[h * p.nMax + mid] < j0) { lo = mid + 1u; } else { hi = mid; }
  }
  let keys = vec4<u32>(j0 + 4u * tx) + vec4<u32>(0u, 1u, 2u, 3u);
  var acc = vec4<f32>(0.0); // keys 4 tx .. 4 tx + 3
  for (var c0 = lo; c0 < n; c0 += BQ) {
    workgroupBarrier(); // previous Q block consumed (and K stored, first time)
    load_q(h, c0, lid);
    workgroupBarrier();
    let s = qk_tile(tx, ty);
    for (var r = 0u; r < 4u; r++) {
      let slot = c0 + 4u * ty + r;
      if (slot >= n) { continue; }
      let i = idx[h * p.nMax + slot];
      let ls = lse[h * p.nMax + slot];
      let sr = vec4<f32>(s[0][r], s[1][r], s[2][r], s[3][r]);
      let e = exp(sr * p.scale - vec4<f32>(ls));
      acc += select(vec4<f32>(0.0), e, (keys <= vec4<u32>(i)) & (keys < vec4<u32>(S)));
    }
  }
  workgroupBarrier();
  sP[ty * TX + tx] = acc;
  workgroupBarrier();
  if (ty == 0u) {
    var total = vec4<f32>(0.0);
    for (var y = 0u; y < TY; y++) { total += sP[y * TX + tx]; }
    for (var b = 0u; b < 4u; b++) {
      if (keys[b] < S) { out[h * S + keys[b]] = total[b]; }
    }
  }
}
