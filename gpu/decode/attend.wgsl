// One query per head attending to a KV cache of n keys (a decode step): the flash-decoding split.
//   partial: one workgroup per (chunk of CHUNK keys, query head h): scores s_j = scale q_h . k[g, j]
//            for the chunk's keys, its max m_c, sum l_c = sum_j exp(s_j - m_c) and unnormalised
//            o_c = sum_j exp(s_j - m_c) v[g, j], written to `part` (heads, chunks, hd + 2).
//   combine: one workgroup per head: M = max_c m_c, L = sum_c l_c exp(m_c - M),
//            out_h = sum_c o_c exp(m_c - M) / L, lse_h = M + log L.
// Splitting the keys keeps the GPU busy at one query (heads x chunks workgroups, not heads), and the
// combine is exact up to f32 rounding. g = floor(h / group) is the kv head of query head h (GQA).
// The cache holds `cap` rows per kv head; rows n .. cap - 1 are never read.

const WG: u32 = 64u;
const CHUNK: u32 = 256u;
const MAX_HD: u32 = 256u;

@group(0) @binding(0) var<storage, read> q: array<f32>;            // (heads, hd)
@group(0) @binding(1) var<storage, read> kc: array<f32>;           // (kvHeads, cap, hd)
@group(0) @binding(2) var<storage, read> vc: array<f32>;           // (kvHeads, cap, hd)
@group(0) @binding(3) var<storage, read_write> part: array<f32>;   // (heads, chunks, hd + 2)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;    // (heads, hd)
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;    // (heads)
struct Params { n: u32, cap: u32, hd: u32, group: u32, scale: f32, chunks: u32, pad0: u32, pad1: u32 }
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> qrow: array<f32, MAX_HD>;
var<workgroup> sc: array<f32, CHUNK>;
// reduce(v, lid, isMax) and its workgroup array: reduce.wgsl, prepended by the host wrapper.

@compute @workgroup_size(WG)
fn partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let h = wid.y;
  let g = h / p.group;
  let hd = p.hd;
  let j0 = c * CHUNK;
  let len = min(CHUNK, p.n - j0);
  // Both entry points bind the same buffers (layout 'auto' drops unused ones).
  _ = &out;
  _ = &lse;
  for (var d = lid; d < hd; d += WG) { qrow[d] = q[h * hd + d]; }
  workgroupBarrier();
  var m = -3.4e38;
  for (var t = lid; t < len; t += WG) {
    let kb = (g * p.cap + j0 + t) * hd;
    var dot = 0.0;
    for (var d = 0u; d < hd; d++) { dot = fma(qrow[d], kc[kb + d], dot); }
    let s = dot * p.scale;
    sc[t] = s;
    m = max(m, s);
  }
  m = reduce(m, lid, true);
  var l = 0.0;
  for (var t = lid; t < len; t += WG) {
    let e = exp(sc[t] - m);
    sc[t] = e;
    l += e;
  }
  l = reduce(l, lid, false); // its barriers also publish sc to every thread
  let base = (h * p.chunks + c) * (hd + 2u);
  for (var d = lid; d < hd; d += WG) {
    var acc = 0.0;
    for (var t = 0u; t < len; t++) { acc = fma(sc[t], vc[(g * p.cap + j0 + t) * hd + d], acc); }
    part[base + d] = acc;
  }
  if (lid == 0u) {
    part[base + hd] = m;
    part[base + hd + 1u] = l;
  }
}

@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let hd = p.hd;
  let stride = hd + 2u;
  _ = &q;
  _ = &kc;
  _ = &vc;
  var M = -3.4e38;
  for (var c = 0u; c < p.chunks; c++) { M = max(M, part[(h * p.chunks + c) * stride + hd]); }
  var L = 0.0;
  for (var c = 0u; c < p.chunks; c++) {
    let b = (h * p.chunks + c) * stride;
    L += part[b + hd + 1u] * exp(part[b + hd] - M);
  }
  let inv = 1.0 / L;
  for (var d = lid; d < hd; d += WG) {
    var acc = 0.0;
    for (var c = 0u; c < p.chunks; c++) {
      let b = (h * p.chunks + c) * stride;
      acc = fma(part[b + d], exp(part[b + hd] - M), acc);
    }
    out[h * hd + d] = acc * inv;
  }
  if (lid == 0u) { lse[h] = M + log(L); }
}
