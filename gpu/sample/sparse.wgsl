// Sparse causal attention over exactly the SampleAttention mask M (docs/SAMPLEATTENTION.md step 8-9):
// M_ij = 1 iff j <= i and (i - j < W or j in I_KV), W = max(w, 1). One workgroup owns BQ query rows
// of one head and visits two disjoint sets of key tiles with one online softmax:
//   band:   keys max(0, q0 - W + 1) .. qEnd - 1, kept where i - W < j <= i;
//   stripe: the head's kept keys (ascending list) j <= qLast - W, kept where i - j >= W,
// so a key in both the band and I_KV is added once (the conditions are complementary).
// Writes the output (if WITH_V) and the sparse log-sum-exp, from which the row recall is
// exp(lse_sparse - lse_dense) (measures.wgsl). Thread layout as flash.wgsl.

override BQ: u32 = 16u;
override BK: u32 = 16u;
override D: u32 = 64u;
override WITH_V: bool = true; // false: only the log-sum-exp (recall without values)
const MAX_DIMS: u32 = 16u;
const NEG: f32 = -1e30;

@group(0) @binding(0) var<storage, read> q: array<f32>;          // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;          // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> v: array<f32>;          // (kvHeads, S, D)
@group(0) @binding(3) var<storage, read> keyList: array<u32>;    // (heads, S) kept keys ascending
@group(0) @binding(4) var<storage, read> keyStats: array<u32>;   // (heads, 2): key count k, (stage-1 estimate bits, unused here)
@group(0) @binding(5) var<storage, read> windows: array<u32>;    // (heads) window w
@group(0) @binding(6) var<storage, read_write> out: array<f32>;  // (heads, S, D)
@group(0) @binding(7) var<storage, read_write> lse: array<f32>;  // (heads, S)
struct Params { S: u32, group: u32, scale: f32, pad: u32 }
@group(0) @binding(8) var<uniform> p: Params;

var<workgroup> sQ: array<f32, BQ * D>;
var<workgroup> sK: array<f32, BK * (D + 1u)>;
var<workgroup> sV: array<f32, BK * D>;
var<workgroup> sS: array<f32, BQ * BK>;
var<workgroup> sJ: array<u32, BK>;
var<workgroup> sStripeTiles: u32;

@compute @workgroup_size(BQ * BK)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let h = wid.y;
  let kvh = h / p.group;
  let q0 = wid.x * BQ;
  let r = lid / BK;
  let t = lid % BK;
  let i = q0 + r;
  let qBase = h * S * D;
  let kBase = kvh * S * D;
  let KS = D + 1u;
  let count = keyStats[h * 2u];
  let W = max(windows[h], 1u);
  let qEnd = min(q0 + BQ, S);
  let qLast = qEnd - 1u;

  for (var x = lid; x < BQ * D; x += BQ * BK) {
    let row = q0 + x / D;
    var val = 0.0;
    if (row < S) { val = q[qBase + row * D + x % D]; }
    sQ[x] = val;
  }
  if (lid == 0u) {
    // Stripe keys this block needs: j + W <= qLast, a prefix of the ascending list.
    var lo = 0u;
    var hi = count;
    while (lo < hi) {
      let mid = (lo + hi) / 2u;
      if (keyList[h * S + mid] + W <= qLast) { lo = mid + 1u; } else { hi = mid; }
    }
    sStripeTiles = (lo + BK - 1u) / BK;
  }
  let stripeTiles = workgroupUniformLoad(&sStripeTiles);
  var bandStart = 0u;
  if (q0 + 1u > W) { bandStart = q0 + 1u - W; }
  let bandTiles = (qEnd - bandStart + BK - 1u) / BK;

  var m = NEG;
  var l = 0.0;
  var acc: array<f32, MAX_DIMS>;
  for (var tile = 0u; tile < stripeTiles + bandTiles; tile++) {
    let stripe = tile < stripeTiles;
    workgroupBarrier();
    if (lid < BK) {
      var j = 0xffffffffu; // empty slot
      if (stripe) {
        let slot = tile * BK + lid;
        if (slot < count) { j = keyList[h * S + slot]; }
      } else {
        let jb = bandStart + (tile - stripeTiles) * BK + lid;
        if (jb < qEnd) { j = jb; }
      }
      sJ[lid] = j;
    }
    workgroupBarrier();
    for (var x = lid; x < BK * D; x += BQ * BK) {
      let jr = x / D;
      let c = x % D;
      let j = sJ[jr];
      var kv = 0.0;
      var vv = 0.0;
      if (j < S) {
        kv = k[kBase + j * D + c];
        if (WITH_V) { vv = v[kBase + j * D + c]; }
      }
      sK[jr * KS + c] = kv;
      sV[x] = vv;
    }
    workgroupBarrier();
    let j = sJ[t];
    var keep = false;
    if (i < S && j <= i) {
      if (stripe) { keep = i - j >= W; } else { keep = i - j < W; }
    }
    var s = NEG;
    if (keep) {
      var dot = 0.0;
      for (var c = 0u; c < D; c++) { dot += sQ[r * D + c] * sK[t * KS + c]; }
      s = dot * p.scale;
    }
    sS[r * BK + t] = s;
    workgroupBarrier();
    var mt = NEG;
    for (var u = 0u; u < BK; u++) { mt = max(mt, sS[r * BK + u]); }
    let mn = max(m, mt);
    let corr = exp(m - mn);
    l *= corr;
    for (var e = 0u; e < MAX_DIMS; e++) { acc[e] *= corr; }
    for (var u = 0u; u < BK; u++) {
      let su = sS[r * BK + u];
      if (su <= NEG) { continue; }
      let pu = exp(su - mn);
      l += pu;
      if (WITH_V) {
        for (var e = 0u; e < MAX_DIMS; e++) {
          let c = t + e * BK;
          if (c < D) { acc[e] += pu * sV[u * D + c]; }
        }
      }
    }
    m = mn;
  }

  if (i < S) {
    if (WITH_V) {
      let inv = 1.0 / l;
      for (var e = 0u; e < MAX_DIMS; e++) {
        let c = t + e * BK;
        if (c < D) { out[qBase + i * D + c] = acc[e] * inv; }
      }
    }
    if (t == 0u) { lse[h * S + i] = m + log(l); }
  }
  // Never true; keeps `out` and `v` in the layout when WITH_V is false.
  if (lid == 0xffffffffu) { out[0] = v[0]; }
}
