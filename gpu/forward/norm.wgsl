// Row normalisation, one workgroup per row of width `n`: RMSNorm (Llama, Qwen, Mistral; Qwen3's
// q_norm/k_norm over head_dim) and LayerNorm (GPT-2). Statistics in f32 as transformers computes
// them: RMSNorm x * rsqrt(mean(x^2) + eps) * w; LayerNorm (x - mean) * rsqrt(var + eps) * w + b
// with the biased variance, taken as mean((x - mean)^2) in a second pass (no cancellation).

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;          // (rows, n)
@group(0) @binding(1) var<storage, read> w: array<f32>;          // (n)
@group(0) @binding(2) var<storage, read> b: array<f32>;          // (n), read only when hasBias = 1
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (rows, n)
struct Params { rows: u32, n: u32, eps: f32, hasBias: u32 }
@group(0) @binding(4) var<uniform> p: Params;

fn rowIndex(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }

// Sum of `v` over the workgroup; every thread gets the total (reduce.wgsl, prepended by the host wrapper).
fn reduceSum(v: f32, lid: u32) -> f32 { return reduce(v, lid, false); }

@compute @workgroup_size(WG)
fn rms(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; } // uniform across the workgroup
  let base = row * p.n;
  var ss = 0.0;
  for (var i = lid; i < p.n; i += WG) { let v = x[base + i]; ss += v * v; }
  let total = reduceSum(ss, lid);
  let inv = inverseSqrt(total / f32(p.n) + p.eps);
  for (var i = lid; i < p.n; i += WG) {
    var v = w[i] * (x[base + i] * inv);
    if (p.hasBias == 1u) { v += b[i]; }
    y[base + i] = v;
  }
}

@compute @workgroup_size(WG)
fn layer(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var s = 0.0;
  for (var i = lid; i < p.n; i += WG) { s += x[base + i]; }
  let mean = reduceSum(s, lid) / f32(p.n);
  var sd = 0.0;
  for (var i = lid; i < p.n; i += WG) { let d = x[base + i] - mean; sd += d * d; }
  let inv = inverseSqrt(reduceSum(sd, lid) / f32(p.n) + p.eps);
  for (var i = lid; i < p.n; i += WG) {
    var v = (x[base + i] - mean) * inv * w[i];
    if (p.hasBias == 1u) { v += b[i]; }
    y[base + i] = v;
  }
}
