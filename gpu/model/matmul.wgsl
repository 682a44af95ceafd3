// y (M, N) = x (M, K) . w (N, K)^T (+ bias (N)): Hugging Face Linear layout. 64 x 64 output tiles,
// 256 threads each owning a 4 x 4 block, K staged 16 at a time in workgroup memory (8 KiB, so it
// fits SwiftShader's 16 KiB as well as real GPUs).
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct P { M: u32, N: u32, K: u32, hasBias: u32 }
@group(0) @binding(4) var<uniform> p: P;

var<workgroup> As: array<f32, 1024>; // [kk][row] 16 x 64
var<workgroup> Bs: array<f32, 1024>; // [kk][col] 16 x 64

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
    for (var t = 0u; t < 4u; t++) {
      let e = tid + t * 256u;
      let r = e / 16u;
      let kk = e % 16u;
      let gk = k0 + kk;
      var a = 0.0;
      if (row0 + r < p.M && gk < p.K) { a = x[(row0 + r) * p.K + gk]; }
      As[kk * 64u + r] = a;
      var b = 0.0;
      if (col0 + r < p.N && gk < p.K) { b = w[(col0 + r) * p.K + gk]; }
      Bs[kk * 64u + r] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let a = vec4f(As[kk * 64u + lid.y * 4u], As[kk * 64u + lid.y * 4u + 1u], As[kk * 64u + lid.y * 4u + 2u], As[kk * 64u + lid.y * 4u + 3u]);
      let b = vec4f(Bs[kk * 64u + lid.x * 4u], Bs[kk * 64u + lid.x * 4u + 1u], Bs[kk * 64u + lid.x * 4u + 2u], Bs[kk * 64u + lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i * 4u] += a[i] * b.x;
        acc[i * 4u + 1u] += a[i] * b.y;
        acc[i * 4u + 2u] += a[i] * b.z;
        acc[i * 4u + 3u] += a[i] * b.w;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c >= p.N) { continue; }
      var v = acc[i * 4u + j];
      if (p.hasBias != 0u) { v += bias[c]; }
      y[r * p.N + c] = v;
    }
  }
}
