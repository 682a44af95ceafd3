// SampleAttention stage 1 (docs/SAMPLEATTENTION.md steps 3-4) for all heads at once.
// row_lse:     the log-sum-exp of each sampled row's causal scores (max and sum, online).
// column_sums: c_j = sum over sampled rows i >= j of exp(scale q_i . k_j - lse_i). No float
//              atomics: each workgroup owns KB key columns of one head and loops over the sampled
//              rows; RL row lanes split the rows and are summed at the end in a fixed order.

override D: u32 = 64u;   // head dimension
override KB: u32 = 32u;  // key columns per column_sums workgroup
override RL: u32 = 8u;   // sampled-row lanes per column_sums workgroup
const LSE_WG: u32 = 64u; // threads per row_lse workgroup
const NEG: f32 = -1e30;

@group(0) @binding(0) var<storage, read> q: array<f32>;        // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;        // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> rows: array<u32>;     // (heads, nMax) sampled rows, ascending, per head
@group(0) @binding(3) var<storage, read> nRows: array<u32>;    // (heads) sampled rows of each head
@group(0) @binding(4) var<storage, read_write> rowLse: array<f32>; // (heads, nMax) written by row_lse, read by column_sums
@group(0) @binding(5) var<storage, read_write> scores: array<f32>; // (heads, S) c_j, written by column_sums
struct Params { S: u32, group: u32, nMax: u32, scale: f32 }
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> sRowQ: array<f32, D>;
var<workgroup> sM: array<f32, LSE_WG>;
var<workgroup> sL: array<f32, LSE_WG>;

// One workgroup per (sampled row slot c, head h).
@compute @workgroup_size(LSE_WG)
fn row_lse(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let h = wid.y;
  let c = wid.x;
  let valid = c < nRows[h];
  var i = 0u;
  if (valid) { i = rows[h * p.nMax + c]; }
  let kBase = (h / p.group) * S * D;
  for (var x = lid; x < D; x += LSE_WG) { sRowQ[x] = q[(h * S + i) * D + x]; }
  workgroupBarrier();
  var m = NEG;
  var l = 0.0;
  for (var j = lid; j <= i; j += LSE_WG) {
    var dot = 0.0;
    for (var e = 0u; e < D; e++) { dot += sRowQ[e] * k[kBase + j * D + e]; }
    let s = dot * p.scale;
    let mn = max(m, s);
    l = l * exp(m - mn) + exp(s - mn);
    m = mn;
  }
  sM[lid] = m;
  sL[lid] = l;
  for (var stride = LSE_WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      let m1 = sM[lid];
      let m2 = sM[lid + stride];
      let mn = max(m1, m2);
      sL[lid] = sL[lid] * exp(m1 - mn) + sL[lid + stride] * exp(m2 - mn);
      sM[lid] = mn;
    }
  }
  if (lid == 0u && valid) { rowLse[h * p.nMax + c] = sM[0] + log(sL[0]); }
  // Never true; names binding 5 so both entry points share one binding list under layout 'auto'.
  if (lid == 0xffffffffu) { scores[0] = 0.0; }
}

var<workgroup> sK: array<f32, KB * (D + 1u)>; // stride D + 1: the KB threads of a lane hit different banks
var<workgroup> sQ: array<f32, RL * D>;
var<workgroup> sRow: array<u32, RL>;
var<workgroup> sRowLse: array<f32, RL>;
var<workgroup> sRed: array<f32, RL * KB>;
var<workgroup> sFirst: u32;
var<workgroup> sN: u32;

// One workgroup per (key block, head); thread (lane, t) = (lid / KB, lid % KB).
@compute @workgroup_size(KB * RL)
fn column_sums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let h = wid.y;
  let j0 = wid.x * KB;
  let lane = lid / KB;
  let t = lid % KB;
  let j = j0 + t;
  let n = nRows[h];
  let kBase = (h / p.group) * S * D;
  for (var x = lid; x < KB * D; x += KB * RL) {
    let jj = j0 + x / D;
    var val = 0.0;
    if (jj < S) { val = k[kBase + jj * D + x % D]; }
    sK[(x / D) * (D + 1u) + x % D] = val;
  }
  if (lid == 0u) {
    // Rows are ascending: skip the rows above this key block (i < j0 sees none of its keys).
    var lo = 0u;
    var hi = n;
    while (lo < hi) {
      let mid = (lo + hi) / 2u;
      if (rows[h * p.nMax + mid] < j0) { lo = mid + 1u; } else { hi = mid; }
    }
    sFirst = lo;
    sN = n;
  }
  let first = workgroupUniformLoad(&sFirst);
  let nUniform = workgroupUniformLoad(&sN); // loop bounds around barriers must be provably uniform
  var acc = 0.0;
  for (var c0 = first; c0 < nUniform; c0 += RL) {
    workgroupBarrier();
    for (var x = lid; x < RL * D; x += KB * RL) {
      let slot = c0 + x / D;
      var val = 0.0;
      if (slot < n) { val = q[(h * S + rows[h * p.nMax + slot]) * D + x % D]; }
      sQ[x] = val;
    }
    if (lid < RL) {
      let slot = c0 + lid;
      var i = 0u;
      var ls = 0.0;
      var ok = 0u;
      if (slot < n) { i = rows[h * p.nMax + slot]; ls = rowLse[h * p.nMax + slot]; ok = 1u; }
      sRow[lid] = select(0xffffffffu, i, ok == 1u); // 0xffffffff marks an empty slot
      sRowLse[lid] = ls;
    }
    workgroupBarrier();
    let i = sRow[lane];
    if (i != 0xffffffffu && j <= i && j < S) {
      var dot = 0.0;
      for (var e = 0u; e < D; e++) { dot += sQ[lane * D + e] * sK[t * (D + 1u) + e]; }
      acc += exp(dot * p.scale - sRowLse[lane]);
    }
  }
  sRed[lane * KB + t] = acc;
  workgroupBarrier();
  if (lane == 0u && j < S) {
    var total = 0.0;
    for (var r = 0u; r < RL; r++) { total += sRed[r * KB + t]; }
    scores[h * S + j] = total;
  }
}
