// Stage 1 of SampleAttention's `blocks` variant (docs/SAMPLEATTENTION.md, "Variant `blocks`",
// step 4) on the GPU, after the sampled rows' log-sum-exp (gpu/attention/tiled.wgsl MODE 2).
// With P_ij = exp(scale q_i . k_j - lse_i) for sampled rows i and keys j <= i:
//   kind 0: C_J = sum over j in block J of c_j,    c_j = sum over sampled i >= j of P_ij
//   kind 1: D_o = sum over dist in band o of e_d,  e_d = sum over sampled i >= d of P_i,i-d
// Both are sums over the same |R| x S pairs, regrouped by key (column) and by distance (diagonal)
// so that the heavy part need not know b:
//   column_sums   one workgroup per (64 keys, head): c_j for its keys     -> sums[0, h, j]
//   distance_sums one workgroup per (64 distances, head): e_d            -> sums[1, h, d]
//   strip_sums    one workgroup per (J or o, head, kind): the block/band sum of those -> strips
// The first two tile the work as (up to 32 sampled rows) x (64 keys) with q and k staged in
// workgroup memory a head-dim chunk of DC at a time, so each q row is read once per key tile
// rather than once per pair (the old one-pass kernel re-read both from global memory for every
// pair, twice, and ran ~15x slower than the row pass). Every sum runs in a fixed order (a thread's
// own sequential sum, then a fixed tree): no atomics (WGSL has no f32 atomics), and runs are
// bit-for-bit reproducible.
// On the tensor-core path (p.fromScores = 1) column_sums is not dispatched: c_j comes from that
// path's stage 1 (tensorcore/flash.wgsl column_sums, (heads, S) colScores), with the same
// definition; the diagonals stay here.
// Prepended by blocks-stages.ts: const D: u32 (head dim) and fn operand(x: f32) -> f32, q and k
// as the row pass read them (x, or x rounded to f16).

const WG: u32 = 64u;  // threads per workgroup
const TK: u32 = 64u;  // keys (column_sums) or distances (distance_sums) per workgroup, one a thread
const TR: u32 = 32u;  // sampled rows per step
const DC: u32 = 16u;  // head-dim chunk staged at once; D up to 128 fits in any chunk count
const KP: u32 = 17u;  // padded k row stride in workgroup memory: threads reading rows t and t+1
                      // hit different banks (stride 16 would put all 64 on one bank)
const KW: u32 = TR + TK - 1u; // keys a run of TR rows sees at TK consecutive distances

@group(0) @binding(0) var<storage, read> q: array<f32>;            // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;            // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> rows: array<u32>;         // (heads, nMax) sampled rows ascending
@group(0) @binding(3) var<storage, read> cnt: array<u32>;          // (heads) sampled row count |R|
@group(0) @binding(4) var<storage, read> lse: array<f32>;          // (heads, nMax) log-sum-exp of each sampled row
@group(0) @binding(5) var<storage, read_write> sums: array<f32>;   // (2, heads, S): c_j, then e_d
@group(0) @binding(6) var<storage, read_write> strips: array<f32>; // (2, heads, nb): C then D
@group(0) @binding(7) var<storage, read> colScores: array<f32>;    // (heads, S) c_j (read when p.fromScores = 1)
struct Params { S: u32, group: u32, scale: f32, nMax: u32, b: u32, nb: u32, heads: u32, fromScores: u32 }
@group(0) @binding(8) var<uniform> p: Params;

// Workgroup memory (bytes): column_sums qT 2048 + kT 4352; distance_sums qT 2048 + kW 6460;
// strip_sums 256. Under WebGPU's 16 KiB default for every D (D is chunked, not staged whole).
var<workgroup> qT: array<f32, TR * DC>;  // (TR, DC) q chunk of the step's rows (0 past the rows / D)
var<workgroup> kT: array<f32, TK * KP>;  // (TK, KP) k chunk of the workgroup's keys
var<workgroup> kW: array<f32, KW * KP>;  // (KW, KP) k chunk of the keys a run of rows sees
var<workgroup> sRed: array<f32, WG>;
var<workgroup> wA: u32;
var<workgroup> wB: u32;

// First slot of head h whose row is >= x (rows ascend): rows below x hold no pair for keys >= x
// (column_sums) nor distances >= x (distance_sums).
fn firstRowAtLeast(h: u32, n: u32, x: u32) -> u32 {
  var lo = 0u;
  var hi = n;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (rows[h * p.nMax + mid] < x) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo;
}

@compute @workgroup_size(WG)
fn column_sums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let j0 = wid.x * TK;
  let j = j0 + lid;
  let qBase = h * p.S * D;
  let kBase = (h / p.group) * p.S * D;
  if (lid == 0u) { wB = cnt[h]; wA = firstRowAtLeast(h, wB, j0); }
  // Loop bounds shared through workgroup memory: the barriers below need uniform control flow.
  let lo = workgroupUniformLoad(&wA);
  let n = workgroupUniformLoad(&wB);
  var acc = 0.0;
  for (var s0 = lo; s0 < n; s0 += TR) {
    let m = min(TR, n - s0); // rows this step (slots s0 .. s0 + m - 1, any rows: no run needed)
    var dots: array<f32, TR>;
    // Zeroed by hand: SwiftShader was seen to keep the previous step's values in a var declared in
    // a loop body (WGSL says it is zeroed each time), which summed earlier rows into these dots.
    for (var a = 0u; a < TR; a++) { dots[a] = 0.0; }
    for (var c0 = 0u; c0 < D; c0 += DC) {
      workgroupBarrier(); // the previous chunk's reads are done
      for (var e = lid; e < TR * DC; e += WG) {
        let a = e / DC;
        let c = c0 + e % DC;
        var x = 0.0;
        if (a < m && c < D) { x = operand(q[qBase + rows[h * p.nMax + s0 + a] * D + c]); }
        qT[e] = x;
      }
      for (var e = lid; e < TK * DC; e += WG) {
        let t = e / DC;
        let c = c0 + e % DC;
        var x = 0.0;
        if (j0 + t < p.S && c < D) { x = operand(k[kBase + (j0 + t) * D + c]); }
        kT[t * KP + e % DC] = x;
      }
      workgroupBarrier();
      var kr: array<f32, DC>;
      for (var c = 0u; c < DC; c++) { kr[c] = kT[lid * KP + c]; }
      // Zero padding past D adds exact zeros: the dot product keeps the row pass's order over c.
      for (var a = 0u; a < TR; a++) {
        if (a < m) {
          var d = dots[a];
          for (var c = 0u; c < DC; c++) { d += qT[a * DC + c] * kr[c]; }
          dots[a] = d;
        }
      }
    }
    for (var a = 0u; a < TR; a++) {
      if (a < m && j <= rows[h * p.nMax + s0 + a]) { acc += exp(dots[a] * p.scale - lse[h * p.nMax + s0 + a]); }
    }
  }
  if (j < p.S) { sums[h * p.S + j] = acc; }
}

@compute @workgroup_size(WG)
fn distance_sums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let d0 = wid.x * TK;
  let dist = d0 + lid;
  let qBase = h * p.S * D;
  let kBase = (h / p.group) * p.S * D;
  if (lid == 0u) { wB = cnt[h]; wA = firstRowAtLeast(h, wB, d0); }
  let lo = workgroupUniformLoad(&wA);
  let n = workgroupUniformLoad(&wB);
  var acc = 0.0;
  var s = lo;
  loop {
    if (s >= n) { break; }
    // A step takes a run of consecutive rows r0 .. r0 + L - 1 (L <= TR; sampled rows come in runs,
    // the tails of segments): at distances d0 .. d0 + TK - 1 they see the KW keys
    // r0 - d0 - (TK - 1) .. r0 + L - 1 - d0, staged once for all of the step's pairs.
    workgroupBarrier(); // every thread has read wA / wB before they are rewritten
    if (lid == 0u) {
      let r0 = rows[h * p.nMax + s];
      var len = 1u;
      while (len < TR && s + len < n && rows[h * p.nMax + s + len] == r0 + len) { len++; }
      wA = r0;
      wB = len;
    }
    let r0 = workgroupUniformLoad(&wA);
    let len = workgroupUniformLoad(&wB);
    let jw0 = i32(r0) - i32(d0) - i32(TK - 1u); // key of window row 0 (negative: none)
    var dots: array<f32, TR>;
    // Zeroed by hand: SwiftShader was seen to keep the previous step's values in a var declared in
    // a loop body (WGSL says it is zeroed each time), which summed earlier rows into these dots.
    for (var a = 0u; a < TR; a++) { dots[a] = 0.0; }
    for (var c0 = 0u; c0 < D; c0 += DC) {
      workgroupBarrier();
      for (var e = lid; e < TR * DC; e += WG) {
        let a = e / DC;
        let c = c0 + e % DC;
        var x = 0.0;
        if (a < len && c < D) { x = operand(q[qBase + (r0 + a) * D + c]); }
        qT[e] = x;
      }
      for (var e = lid; e < KW * DC; e += WG) {
        let w = e / DC;
        let c = c0 + e % DC;
        let jj = jw0 + i32(w);
        var x = 0.0;
        // jj <= r0 + len - 1 - d0 < S for w < len + TK - 1: rows are < S.
        if (jj >= 0 && w < len + TK - 1u && c < D) { x = operand(k[kBase + u32(jj) * D + c]); }
        kW[w * KP + e % DC] = x;
      }
      workgroupBarrier();
      // Row a, distance d0 + lid: key r0 + a - d0 - lid, window row a + TK - 1 - lid.
      for (var a = 0u; a < TR; a++) {
        if (a < len) {
          let kRow = (a + TK - 1u - lid) * KP;
          var d = dots[a];
          for (var c = 0u; c < DC; c++) { d += qT[a * DC + c] * kW[kRow + c]; }
          dots[a] = d;
        }
      }
    }
    for (var a = 0u; a < TR; a++) {
      if (a < len && dist <= r0 + a) { acc += exp(dots[a] * p.scale - lse[h * p.nMax + s + a]); }
    }
    s += len;
  }
  if (dist < p.S) { sums[(p.heads + h) * p.S + dist] = acc; }
}

@compute @workgroup_size(WG)
fn strip_sums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let x = wid.x; // J (kind 0) or o (kind 1): keys / distances x b .. (x + 1) b - 1
  let h = wid.y;
  let kind = wid.z;
  var acc = 0.0;
  for (var j = x * p.b + lid; j < min((x + 1u) * p.b, p.S); j += WG) {
    if (kind == 0u && p.fromScores == 1u) { acc += colScores[h * p.S + j]; } else { acc += sums[(kind * p.heads + h) * p.S + j]; }
  }
  sRed[lid] = acc;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { sRed[lid] += sRed[lid + stride]; }
  }
  if (lid == 0u) { strips[(kind * p.heads + h) * p.nb + x] = sRed[0]; }
}
