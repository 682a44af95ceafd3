// Between projections and attention. `split`: (S, H * hd) rows -> (H, S, hd), with the optional
// per-head RMSNorm of Qwen3 (q_norm / k_norm over hd) and rotary embedding (Hugging Face's
// rotate_half convention: dims t and t + hd/2 rotate together) from a host-made cos/sin table.
// `merge`: (H, S, hd) -> (S, H * hd). One workgroup per (position, head).
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> normW: array<f32>;
@group(0) @binding(3) var<storage, read> cosT: array<f32>; // (S, hd/2)
@group(0) @binding(4) var<storage, read> sinT: array<f32>; // (S, hd/2)
struct P { S: u32, H: u32, hd: u32, flags: u32, eps: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(5) var<uniform> p: P;

const T = 64u;
const NORM = 1u;
const ROPE = 2u;
var<workgroup> row: array<f32, 512>;
var<workgroup> red: array<f32, T>;

@compute @workgroup_size(T)
fn split(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wg.x;
  let h = wg.y;
  let hd = p.hd;
  let inBase = s * p.H * hd + h * hd;
  var ss = 0.0;
  for (var t = lid; t < hd; t += T) { let v = src[inBase + t]; row[t] = v; ss += v * v; }
  var inv = 1.0;
  if ((p.flags & NORM) != 0u) {
    red[lid] = ss;
    workgroupBarrier();
    for (var k = T / 2u; k > 0u; k >>= 1u) {
      if (lid < k) { red[lid] += red[lid + k]; }
      workgroupBarrier();
    }
    inv = inverseSqrt(red[0] / f32(hd) + p.eps);
  }
  workgroupBarrier();
  for (var t = lid; t < hd; t += T) {
    var v = row[t];
    if ((p.flags & NORM) != 0u) { v = v * inv * normW[t]; }
    row[t + 256u] = v;
  }
  workgroupBarrier();
  let outBase = (h * p.S + s) * hd;
  let half = hd / 2u;
  for (var t = lid; t < hd; t += T) {
    var v = row[t + 256u];
    if ((p.flags & ROPE) != 0u) {
      let i = t % half;
      let c = cosT[s * half + i];
      let sn = sinT[s * half + i];
      if (t < half) { v = v * c - row[t + 256u + half] * sn; } else { v = v * c + row[t + 256u - half] * sn; }
    }
    dst[outBase + t] = v;
  }
}

@compute @workgroup_size(T)
fn merge(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wg.x;
  let h = wg.y;
  for (var t = lid; t < p.hd; t += T) { dst[s * p.H * p.hd + h * p.hd + t] = src[(h * p.S + s) * p.hd + t]; }
}
