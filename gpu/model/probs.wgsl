// The attention probability map P (H, S, S) from q, k and the dense pass's per-row log-sum-exp:
// P[h, i, j] = exp(scale q_i . k_j - lse[h, i]) for j <= i, 0 above the diagonal. Used to show and
// dump maps of short texts; long texts are drawn from pooled maps instead.
@group(0) @binding(0) var<storage, read> q: array<f32>;   // (H, S, d)
@group(0) @binding(1) var<storage, read> k: array<f32>;   // (KV, S, d)
@group(0) @binding(2) var<storage, read> lse: array<f32>; // (H, S)
@group(0) @binding(3) var<storage, read_write> P: array<f32>; // (H, S, S)
struct Params { S: u32, d: u32, group: u32, scale: f32 }
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x;
  let i = g.y;
  let h = g.z;
  if (i >= p.S || j >= p.S) { return; }
  let out = (h * p.S + i) * p.S + j;
  if (j > i) { P[out] = 0.0; return; }
  let qb = (h * p.S + i) * p.d;
  let kb = ((h / p.group) * p.S + j) * p.d;
  var dot = 0.0;
  for (var c = 0u; c < p.d; c++) { dot += q[qb + c] * k[kb + c]; }
  P[out] = exp(dot * p.scale - lse[h * p.S + i]);
}
