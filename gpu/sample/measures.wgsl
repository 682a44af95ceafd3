// SampleAttention measures (docs/SAMPLEATTENTION.md "Measures") per head, one workgroup per head:
// - row recall R_i = sum_j M_ij P_ij with P from the dense pass. Since P_ij = exp(s_ij - lse_i)
//   and the sparse pass computed lseSparse_i = log sum_j M_ij exp(s_ij), R_i = exp(lseSparse_i -
//   lse_i) exactly (in exact arithmetic); written per row, plus its mean and minimum;
// - the mask's entry count, in exact integers, from the mask planes (mask-planes.wgsl: either
//   variant's M_ij = j <= i and (col[j] or diag[i - j])), per key column j: a kept column is kept
//   on its S - j rows i >= j, any other key on the rows whose offset i - j in 0..S-1-j is a kept
//   diagonal: diagCum[S - 1 - j];
// - (WITH_V) the squared Frobenius norms ||O_sparse - O_dense||^2 and ||O_dense||^2.

override D: u32 = 64u;
override WITH_V: bool = true;
const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> lseDense: array<f32>;    // (heads, S)
@group(0) @binding(1) var<storage, read> lseSparse: array<f32>;   // (heads, S)
@group(0) @binding(2) var<storage, read> col: array<u32>;         // (heads, S) 1 = key column kept
@group(0) @binding(3) var<storage, read> diagCum: array<u32>;     // (heads, S) kept offsets in 0..o
@group(0) @binding(4) var<storage, read> outDense: array<f32>;    // (heads, S, D)
@group(0) @binding(5) var<storage, read> outSparse: array<f32>;   // (heads, S, D)
@group(0) @binding(6) var<storage, read_write> recall: array<f32>; // (heads, S)
@group(0) @binding(7) var<storage, read_write> stats: array<u32>;  // (heads, 5): f32 bits of recall mean, min, err^2, dense^2; u32 mask count
struct Params { S: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(8) var<uniform> p: Params;

var<workgroup> sSum: array<f32, WG>;
var<workgroup> sMin: array<f32, WG>;
var<workgroup> sNum: array<f32, WG>;
var<workgroup> sDen: array<f32, WG>;
var<workgroup> sCnt: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let h = wid.x;
  var sum = 0.0;
  var mn = 3.0e38;
  var cnt = 0u;
  for (var i = lid; i < S; i += WG) {
    let r = exp(lseSparse[h * S + i] - lseDense[h * S + i]);
    recall[h * S + i] = r;
    sum += r;
    mn = min(mn, r);
    // Here i stands for the key column j (the same index range).
    cnt += select(diagCum[h * S + (S - 1u - i)], S - i, col[h * S + i] != 0u);
  }
  var num = 0.0;
  var den = 0.0;
  if (WITH_V) {
    for (var x = lid; x < S * D; x += WG) {
      let od = outDense[h * S * D + x];
      let e = outSparse[h * S * D + x] - od;
      num += e * e;
      den += od * od;
    }
  }
  sSum[lid] = sum; sMin[lid] = mn; sNum[lid] = num; sDen[lid] = den; sCnt[lid] = cnt;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      sSum[lid] += sSum[lid + stride];
      sMin[lid] = min(sMin[lid], sMin[lid + stride]);
      sNum[lid] += sNum[lid + stride];
      sDen[lid] += sDen[lid + stride];
      sCnt[lid] += sCnt[lid + stride];
    }
  }
  if (lid == 0u) {
    stats[h * 5u] = bitcast<u32>(sSum[0] / f32(S));
    stats[h * 5u + 1u] = bitcast<u32>(sMin[0]);
    stats[h * 5u + 2u] = bitcast<u32>(sNum[0]);
    stats[h * 5u + 3u] = bitcast<u32>(sDen[0]);
    stats[h * 5u + 4u] = sCnt[0];
  }
  // Never true; keeps the output bindings in the layout when WITH_V is false.
  if (lid == 0xffffffffu) { recall[0] = outDense[0] + outSparse[0]; }
}
