// Fills a buffer with uniform random values of a given mean and standard deviation from a counter-based
// hash (PCG), so benchmarks can make a multi-GB model on the GPU without host traffic.

@group(0) @binding(0) var<storage, read_write> y: array<f32>;    // (n)
struct Params { n: u32, seed: u32, sd: f32, mean: f32 }
@group(0) @binding(1) var<uniform> p: Params;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let u = f32(pcg(i ^ pcg(p.seed)) >> 8u) / 16777216.0; // [0, 1)
  // uniform on [-sqrt(3), sqrt(3)) has unit variance
  y[i] = p.mean + p.sd * 1.7320508 * (2.0 * u - 1.0);
}
