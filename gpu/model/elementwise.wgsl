// Elementwise passes of the forward: embedding gather (+ learned positions), residual add, and the
// MLP activations (SwiGLU's silu(gate) * up, GPT-2's tanh GELU, exact erf GELU).
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct P { n: u32, width: u32, hasB: u32, pad: u32 }
@group(0) @binding(4) var<uniform> p: P;

fn index(g: vec3u, n: vec3u) -> u32 { return g.x + g.y * n.x * 256u; }

// y[s, c] = a[ids[s], c] (+ b[s, c]); n = S * width.
@compute @workgroup_size(256)
fn embed(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = index(g, nw);
  if (i >= p.n) { return; }
  let s = i / p.width;
  let c = i % p.width;
  var v = a[u32(ids[s]) * p.width + c];
  if (p.hasB != 0u) { v += b[i]; }
  y[i] = v;
}

// y = a + b (y may alias neither input: the host passes a separate output).
@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = index(g, nw);
  if (i >= p.n) { return; }
  y[i] = a[i] + b[i];
}

@compute @workgroup_size(256)
fn silu_mul(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = index(g, nw);
  if (i >= p.n) { return; }
  let x = a[i];
  y[i] = x / (1.0 + exp(-x)) * b[i];
}

@compute @workgroup_size(256)
fn gelu_tanh(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = index(g, nw);
  if (i >= p.n) { return; }
  let x = a[i];
  // tanh(u) = 1 - 2 / (exp(2u) + 1), stable for large |u| (exp overflows to inf -> 1).
  let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  let t = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
  y[i] = 0.5 * x * (1.0 + t);
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
fn erf(x: f32) -> f32 {
  let s = sign(x);
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1.0 - poly * exp(-z * z));
}

@compute @workgroup_size(256)
fn gelu_erf(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = index(g, nw);
  if (i >= p.n) { return; }
  let x = a[i];
  y[i] = 0.5 * x * (1.0 + erf(x * 0.7071067811865476));
}
