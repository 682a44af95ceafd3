// The default tensor-core matmul: y = x W^T (+ b), W (N, K) f16 in Linear layout, x (M, K) f32
// rounded to f16 as it is staged or f16 as it is, y (M, N) f32, f32 accumulation. matmul-vec16.ts prepends the
// matrix primitives and the constants BM, BN, BK, NT, NSG, SGC, TM, TN, KV (= BK / 8), ASV, BSV,
// NBUF, and replaces the //@ lines with code unrolled over each subgroup's TM x TN accumulators
// and the BK / 16 steps of a slab. What differs from the staged kernel (matmul.wgsl):
//  - global and workgroup traffic in 16-byte units: a vec4<u32> holds 8 halves (W as it is in
//    memory; x from two vec4<f32> loads rounded to f16 and packed, or one load of f16 x), and the matrix loads read
//    those arrays with offsets and strides counted in vec4s (rows padded by one vec4);
//  - NBUF = 2 double-buffers the workgroup tiles: slab s + 1 is read into registers before the
//    products of slab s and written to the other buffer after them, one barrier a slab (not two).
// Needs K % 8 == 0 (whole 8-half chunks); loads outside x and W read 0, stores outside y are skipped.

const A_PER: u32 = (BM * KV + NT - 1u) / NT;   // 8-half chunks of x per thread per slab
const B_PER: u32 = (BN * KV + NT - 1u) / NT;   // 8-half chunks of W per thread per slab

//@X_BINDING
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;      // (N, K / 8) f16, 8 a vec4
@group(0) @binding(2) var<storage, read> bias: array<f32>;       // (N), read only when hasBias = 1
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (M, N)
struct Params { M: u32, N: u32, K: u32, hasBias: u32, xRow0: u32 }
@group(0) @binding(4) var<uniform> p: Params;

// Blocked by the subgroup row / column that reads them (primitives.ts, `blocked`): each matrix
// load names its block and a constant offset and stride, which the bounds checks prove in range.
var<workgroup> sA: array<array<vec4<u32>, 16u * TM * ASV>, NBUF * SGR>; // [buf, subgroup row][m][k / 8], 8 halves an element
var<workgroup> sB: array<array<vec4<u32>, 16u * TN * BSV>, NBUF * SGC>; // [buf, subgroup col][n][k / 8]
var<workgroup> sC: array<array<vec4<f32>, 64u>, NSG>;   // epilogue: one 16 x 16 f32 tile per subgroup

// 8 consecutive k of row r of x / row n of W as packed halves; zeros outside.
//@X_CHUNK
fn w_chunk(n: u32, k: u32) -> vec4<u32> {
  if (n >= p.N || k >= p.K) { return vec4<u32>(0u); }
  return w[(n * p.K + k) / 8u];
}

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  prim_init(lid);
  let sg = lid / 32u;
  let lane = lid % 32u;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let sr = (sg / SGC) * (16u * TM);
  let sc = (sg % SGC) * (16u * TN);
//@DECL_ACC
  var ra: array<vec4<u32>, A_PER>;
  var rb: array<vec4<u32>, B_PER>;
  let nSlabs = (p.K + BK - 1u) / BK;
  // Slab 0 into buffer 0.
//@LOAD_REGS_0
//@STORE_REGS_0
  workgroupBarrier();
  for (var s = 0u; s < nSlabs; s++) {
    let k0 = s * BK;
    let buf = s % NBUF;
    let more = s + 1u < nSlabs;
    if (more) {
      let kn = k0 + BK;
//@LOAD_REGS_NEXT
    }
//@SLAB
  }
  // Each 16 x 16 tile through workgroup memory, then element by element with bounds and bias.
//@EPILOGUE_SCRATCH
}

// One 16 x 16 tile of subgroup sg, staged in sC, to y at (r0, c0) with bounds and bias.
fn write_tile(sg: u32, lane: u32, r0: u32, c0: u32) {
  for (var t = 0u; t < 8u; t++) {
    let e = lane * 8u + t;
    let r = r0 + e / 16u;
    let c = c0 + e % 16u;
    if (r < p.M && c < p.N) {
      var v = sC[sg][e / 4u][e % 4u];
      if (p.hasBias == 1u) { v += bias[c]; }
      y[r * p.N + c] = v;
    }
  }
}
