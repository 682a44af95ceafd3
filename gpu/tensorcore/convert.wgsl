// f32 -> f16, element-wise, rounding to nearest (WGSL's f16() conversion): builds f16 weights on
// the GPU (benchmarks fill f32 at random and convert). n is even: a thread writes a pair.
enable f16;

@group(0) @binding(0) var<storage, read> x: array<f32>;             // (n)
@group(0) @binding(1) var<storage, read_write> y: array<vec2<f16>>;  // (n / 2) pairs
struct Params { pairs: u32, n: u32, pad0: u32, pad1: u32 }
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.pairs) { return; }
  var b = 0.0;
  if (2u * i + 1u < p.n) { b = x[2u * i + 1u]; }
  y[i] = vec2<f16>(f16(x[2u * i]), f16(b));
}
