// Dense causal attention in the flash style: one workgroup owns BQ query rows of one head, walks
// the key tiles 0 .. (last row of the block) BK keys at a time with an online softmax, and never
// holds more than a BQ x BK score tile. Tiles wholly above the diagonal are never visited.
// Thread (r, t) = (local_index / BK, local_index % BK): scores row r against key t of the tile,
// then owns output dimensions t, t + BK, t + 2 BK, ... of row r.

override BQ: u32 = 16u; // query rows per workgroup
override BK: u32 = 16u; // keys per tile (and threads per query row)
override D: u32 = 64u;  // head dimension
const KS_PAD: u32 = 1u; // K rows are stored with stride D + 1 so the BK threads of a row hit different banks
const MAX_DIMS: u32 = 16u; // output dims per thread: ceil(D / BK) <= 128 / 8
const NEG: f32 = -1e30; // "minus infinity" that keeps exp(NEG - NEG) finite

@group(0) @binding(0) var<storage, read> q: array<f32>;          // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;          // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> v: array<f32>;          // (kvHeads, S, D)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // (heads, S, D)
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;  // (heads, S)
struct Params { S: u32, group: u32, scale: f32, pad: u32 }
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> sQ: array<f32, BQ * D>;
var<workgroup> sK: array<f32, BK * (D + KS_PAD)>;
var<workgroup> sV: array<f32, BK * D>;
var<workgroup> sS: array<f32, BQ * BK>;

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
  let KS = D + KS_PAD;

  for (var x = lid; x < BQ * D; x += BQ * BK) {
    let row = q0 + x / D;
    var val = 0.0;
    if (row < S) { val = q[qBase + row * D + x % D]; }
    sQ[x] = val;
  }

  var m = NEG;
  var l = 0.0;
  var acc: array<f32, MAX_DIMS>;
  let qEnd = min(q0 + BQ, S);
  let nTiles = (qEnd + BK - 1u) / BK; // keys 0 .. qEnd-1: causal, nothing above the block's last row
  for (var kt = 0u; kt < nTiles; kt++) {
    let j0 = kt * BK;
    workgroupBarrier(); // everyone is done with the previous tile
    for (var x = lid; x < BK * D; x += BQ * BK) {
      let jr = x / D;
      let c = x % D;
      let j = j0 + jr;
      var kv = 0.0;
      var vv = 0.0;
      if (j < S) { kv = k[kBase + j * D + c]; vv = v[kBase + j * D + c]; }
      sK[jr * KS + c] = kv;
      sV[x] = vv;
    }
    workgroupBarrier();
    let j = j0 + t;
    var s = NEG;
    if (i < S && j <= i) {
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
      if (su <= NEG) { continue; } // masked: contributes exactly nothing
      let pu = exp(su - mn);
      l += pu;
      for (var e = 0u; e < MAX_DIMS; e++) {
        let c = t + e * BK;
        if (c < D) { acc[e] += pu * sV[u * D + c]; }
      }
    }
    m = mn;
  }

  if (i < S) {
    let inv = 1.0 / l;
    for (var e = 0u; e < MAX_DIMS; e++) {
      let c = t + e * BK;
      if (c < D) { out[qBase + i * D + c] = acc[e] * inv; }
    }
    if (t == 0u) { lse[h * S + i] = m + log(l); }
  }
}
