// Element-wise kernels of the residual stream and the MLP, one thread per element over a 2-D
// grid of 256-thread workgroups:
//   add:      a += b                            (residual add)
//   silu_mul: a = silu(a) * b                   (SwiGLU: a = gate, b = up)
//   gelu_new: a = 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3)))   (GPT-2, gelu_pytorch_tanh)
//   gelu_erf: a = 0.5 a (1 + erf(a / sqrt(2)))  (exact GELU)

@group(0) @binding(0) var<storage, read_write> a: array<f32>;    // (n)
@group(0) @binding(1) var<storage, read> b: array<f32>;          // (n); unused by the GELUs
struct Params { n: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(2) var<uniform> p: Params;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return (wid.x + wid.y * nwg.x) * 256u + lid; }

// tanh through exp of a clamped argument: tanh(+-15) is +-1 in f32, and the clamp keeps
// exp(2x) finite where a builtin tanh written as (e^2x - 1)/(e^2x + 1) could give inf/inf = NaN.
fn safeTanh(x: f32) -> f32 {
  let c = clamp(x, -15.0, 15.0);
  if (abs(c) < 0.25) {
    // Near 0 the exp form cancels; the odd Taylor series to x^9 is exact to f32 here (|x| < 0.25).
    let c2 = c * c;
    return c * (1.0 + c2 * (-1.0 / 3.0 + c2 * (2.0 / 15.0 + c2 * (-17.0 / 315.0 + c2 * (62.0 / 2835.0)))));
  }
  let e = exp(2.0 * c);
  return (e - 1.0) / (e + 1.0);
}

// erf: Abramowitz & Stegun 7.1.26 has 1.5e-7 absolute error, at f32 resolution for erf's range
// [-1, 1] only near 0 where it is relatively worse; below |x| < 0.5 use the Maclaurin series.
fn erfApprox(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.5) {
    let x2 = x * x;
    // 2/sqrt(pi) (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
    return 1.1283791670955126 * x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (1.0 / 10.0 + x2 * (-1.0 / 42.0 + x2 * (1.0 / 216.0 + x2 * (-1.0 / 1320.0))))));
  }
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - poly * exp(-ax * ax);
  return select(-r, r, x >= 0.0);
}

@compute @workgroup_size(256)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i < p.n) { a[i] = a[i] + b[i]; }
}

@compute @workgroup_size(256)
fn silu_mul(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i < p.n) {
    let g = a[i];
    // g / (1 + exp(-g)): for g << 0 exp overflows to inf and the quotient is -0, the right limit.
    a[i] = g / (1.0 + exp(-g)) * b[i];
  }
}

@compute @workgroup_size(256)
fn gelu_new(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  _ = &b;
  if (i < p.n) {
    let x = a[i];
    a[i] = 0.5 * x * (1.0 + safeTanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  }
}

@compute @workgroup_size(256)
fn gelu_erf(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  _ = &b;
  if (i < p.n) {
    let x = a[i];
    a[i] = 0.5 * x * (1.0 + erfApprox(x * 0.7071067811865476));
  }
}
