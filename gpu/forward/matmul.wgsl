// y = x W^T (+ b) for a Hugging Face Linear weight W of shape (N, K): x (M, K), y (M, N), all f32.
// One workgroup of 16 x 16 threads owns a 64 x 64 tile of y and walks K in steps of 16, staging a
// 64 x 16 slab of x and of W in workgroup memory; each thread accumulates 4 x 4 outputs at rows
// ty + 16 i and columns tx + 16 j (strided, so neighbouring threads write neighbouring columns).
// Any M, N, K: loads outside the matrices read as 0 and stores outside are skipped.

const TILE: u32 = 64u;   // rows of x and rows of W per workgroup
const BK: u32 = 16u;     // K step
const PAD: u32 = 65u;    // slab stride: 65 keeps the transposed stores of one row on distinct banks

@group(0) @binding(0) var<storage, read> x: array<f32>;          // (rows, K); rows xRow0 .. xRow0 + M are used
@group(0) @binding(1) var<storage, read> w: array<f32>;          // (N, K)
@group(0) @binding(2) var<storage, read> bias: array<f32>;       // (N), read only when hasBias = 1
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (M, N)
struct Params { M: u32, N: u32, K: u32, hasBias: u32, xRow0: u32 }
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> xs: array<f32, BK * PAD>; // [k][m]
var<workgroup> ws: array<f32, BK * PAD>; // [k][n]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let tx = lid.x;
  let ty = lid.y;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // 1024 elements per slab, 4 per thread; consecutive threads read consecutive k of one row.
    for (var e = 0u; e < 4u; e++) {
      let idx = li + e * 256u;
      let r = idx / BK;
      let kk = idx % BK;
      let k = k0 + kk;
      var xv = 0.0;
      if (row0 + r < p.M && k < p.K) { xv = x[(p.xRow0 + row0 + r) * p.K + k]; }
      xs[kk * PAD + r] = xv;
      var wv = 0.0;
      if (col0 + r < p.N && k < p.K) { wv = w[(col0 + r) * p.K + k]; }
      ws[kk * PAD + r] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = xs[kk * PAD + ty + 16u * i]; }
      for (var j = 0u; j < 4u; j++) { b[j] = ws[kk * PAD + tx + 16u * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = fma(a[i], b[j], acc[i * 4u + j]); }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + ty + 16u * i;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + tx + 16u * j;
      if (c >= p.N) { continue; }
      var v = acc[i * 4u + j];
      if (p.hasBias == 1u) { v += bias[c]; }
      y[r * p.N + c] = v;
    }
  }
}
