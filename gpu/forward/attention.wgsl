// Dense causal attention that also writes the probability map, for when the map is wanted
// (captureAttention): P[h, i, j] = softmax_j<=i(scale q[h, i] . k[g, j]), 0 for j > i, then
// out[h, i] = sum_j P[h, i, j] v[g, j], with g = floor(h / group) the kv head of query head h.
// Softmax as transformers' eager attention computes it in f32: subtract the row max, exp, divide
// by the sum. Two entry points:
//   probs: one workgroup per (query row i, head h); 64 threads stride over the keys.
//   pv:    one thread per output element (h, i, d).

const WG: u32 = 64u;
const MAX_HD: u32 = 256u;

@group(0) @binding(0) var<storage, read> q: array<f32>;          // (heads, S, hd)
@group(0) @binding(1) var<storage, read> k: array<f32>;          // (kvHeads, S, hd); pv: v
@group(0) @binding(2) var<storage, read_write> P: array<f32>;    // (heads, S, S)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // (heads, S, hd), pv only
struct Params { S: u32, hd: u32, group: u32, scale: f32, heads: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> qrow: array<f32, MAX_HD>;
// reduce(v, lid, isMax) and its workgroup array: reduce.wgsl, prepended by the host wrapper.

@compute @workgroup_size(WG)
fn probs(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  let h = wid.y;
  let g = h / p.group;
  let S = p.S;
  let hd = p.hd;
  _ = &out;
  for (var d = lid; d < hd; d += WG) { qrow[d] = q[(h * S + i) * hd + d]; }
  workgroupBarrier();
  let row = (h * S + i) * S;
  // Each thread keeps its own keys' scores in P (read back only by the same thread).
  var m = -3.4e38;
  for (var j = lid; j <= i; j += WG) {
    let kb = (g * S + j) * hd;
    var dot = 0.0;
    for (var d = 0u; d < hd; d++) { dot = fma(qrow[d], k[kb + d], dot); }
    let sc = dot * p.scale;
    P[row + j] = sc;
    m = max(m, sc);
  }
  m = reduce(m, lid, true);
  var sum = 0.0;
  for (var j = lid; j <= i; j += WG) {
    let e = exp(P[row + j] - m);
    P[row + j] = e;
    sum += e;
  }
  let inv = 1.0 / reduce(sum, lid, false);
  for (var j = lid; j < S; j += WG) {
    if (j <= i) { P[row + j] = P[row + j] * inv; } else { P[row + j] = 0.0; }
  }
}

@compute @workgroup_size(WG)
fn pv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  let S = p.S;
  let hd = p.hd;
  if (t >= p.heads * S * hd) { return; }
  _ = &q;
  let d = t % hd;
  let i = (t / hd) % S;
  let h = t / (hd * S);
  let g = h / p.group;
  let row = (h * S + i) * S;
  var acc = 0.0;
  for (var j = 0u; j <= i; j++) { acc = fma(P[row + j], k[(g * S + j) * hd + d], acc); }
  out[t] = acc;
}
