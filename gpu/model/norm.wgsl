// Row normalisation, one workgroup per row: RMSNorm (x / rms(x) * w) or LayerNorm
// ((x - mean) / std * w + b). Sums are accumulated per thread then tree-reduced in a fixed order.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct P { rows: u32, n: u32, eps: f32, layer: u32 }
@group(0) @binding(4) var<uniform> p: P;

const T = 64u;
var<workgroup> red: array<f32, T>;

fn reduce_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = T / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(T)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var mean = 0.0;
  if (p.layer != 0u) {
    var s = 0.0;
    for (var i = lid; i < p.n; i += T) { s += x[base + i]; }
    mean = reduce_sum(s, lid) / f32(p.n);
  }
  var ss = 0.0;
  for (var i = lid; i < p.n; i += T) { let d = x[base + i] - mean; ss += d * d; }
  let inv = inverseSqrt(reduce_sum(ss, lid) / f32(p.n) + p.eps);
  for (var i = lid; i < p.n; i += T) {
    var v = (x[base + i] - mean) * inv * w[i];
    if (p.layer != 0u) { v += b[i]; }
    y[base + i] = v;
  }
}
