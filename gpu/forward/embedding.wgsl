// Token embedding gather, plus GPT-2's learned position embedding: y[s, :] = wte[ids[s], :] (+ wpe[pos0 + s, :]);
// pos0 > 0 is a decode step after a cached prefix.
// One thread per output element; the flat index comes from a 2-D grid of 256-thread workgroups.

@group(0) @binding(0) var<storage, read> ids: array<u32>;        // (S)
@group(0) @binding(1) var<storage, read> wte: array<f32>;        // (vocab, n)
@group(0) @binding(2) var<storage, read> wpe: array<f32>;        // (positions, n), read only when hasPos = 1
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (S, n)
struct Params { S: u32, n: u32, hasPos: u32, pos0: u32 }
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.S * p.n) { return; }
  let s = i / p.n;
  let c = i % p.n;
  var v = wte[ids[s] * p.n + c];
  if (p.hasPos == 1u) { v += wpe[(p.pos0 + s) * p.n + c]; }
  y[i] = v;
}
