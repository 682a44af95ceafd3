// Counts the non-finite values (NaN, +-Inf) of an f32 buffer and finds the first one. Tested on
// the bits, not with x != x: shader compilers may assume floats are never NaN and fold that away.
// out[0] += count (atomic), out[1] = min(out[1], index of a non-finite value); the caller sets
// out to (0, 0xffffffff) first.

@group(0) @binding(0) var<storage, read> x: array<f32>;              // (n)
@group(0) @binding(1) var<storage, read_write> out: array<atomic<u32>, 2>;
struct Params { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let bits = bitcast<u32>(x[i]);
  if ((bits & 0x7f800000u) == 0x7f800000u) {
    atomicAdd(&out[0], 1u);
    atomicMin(&out[1], i);
  }
}
