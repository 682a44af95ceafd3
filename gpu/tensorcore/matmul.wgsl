// The staged tensor-core matmul, the fallback of matmul.ts where the default (matmul-vec16.wgsl)
// does not apply (K % 8 != 0): y = x W^T (+ b) on tensor cores: x (M, K) f32 activations, W (N, K) f16 weights in Hugging Face
// Linear layout, y (M, N) f32, f32 accumulation. matmul.ts prepends the matrix primitives
// (primitives.ts) and the constants BM, BN, BK, NT, NSG, SGC, TM, TN, AS, BS, VEC, and replaces the
// //@ lines with code unrolled over each subgroup's TM x TN accumulators.
//
// A workgroup of NSG subgroups owns a BM x BN block of y; subgroup sg owns rows sr .. sr + 16 TM
// and columns sc .. sc + 16 TN of it (SGC subgroups per block row). K advances BK at a time: the
// next slab of x (converted to f16) and of W is read into registers while the current one, in
// workgroup memory, feeds the matrix products (one workgroup buffer, two barriers a step).
// sA is [m][k] (stride AS), sB is [n][k] (stride BS): W's own layout, read transposed as the
// right operand. Any M, N, K: loads outside the matrices read 0, stores outside are skipped.

const CH: u32 = BK / 4u;                       // 4-element chunks per slab row
const A_PER: u32 = (BM * CH + NT - 1u) / NT;   // chunks of x per thread per slab
const B_PER: u32 = (BN * CH + NT - 1u) / NT;   // chunks of W per thread per slab

//@BINDINGS_XW
@group(0) @binding(2) var<storage, read> bias: array<f32>;       // (N), read only when hasBias = 1
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (M, N)
struct Params { M: u32, N: u32, K: u32, hasBias: u32, xRow0: u32 }
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> sA: array<f16, BM * AS>;
var<workgroup> sB: array<f16, BN * BS>;
var<workgroup> sC: array<f32, NSG * 256u>; // epilogue: one 16 x 16 tile per subgroup

// x_chunk(r, k), w_chunk(n, k): 4 consecutive k of row r of x (as f16) / row n of W, zeros outside.
//@CHUNKS

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
  var ra: array<vec4<f16>, A_PER>;
  var rb: array<vec4<f16>, B_PER>;
  // First slab into registers.
  for (var t = 0u; t < A_PER; t++) { let e = lid + t * NT; if (e < BM * CH) { ra[t] = x_chunk(row0 + e / CH, 4u * (e % CH)); } }
  for (var t = 0u; t < B_PER; t++) { let e = lid + t * NT; if (e < BN * CH) { rb[t] = w_chunk(col0 + e / CH, 4u * (e % CH)); } }
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var t = 0u; t < A_PER; t++) {
      let e = lid + t * NT;
      if (e < BM * CH) { let o = (e / CH) * AS + 4u * (e % CH); sA[o] = ra[t].x; sA[o + 1u] = ra[t].y; sA[o + 2u] = ra[t].z; sA[o + 3u] = ra[t].w; }
    }
    for (var t = 0u; t < B_PER; t++) {
      let e = lid + t * NT;
      if (e < BN * CH) { let o = (e / CH) * BS + 4u * (e % CH); sB[o] = rb[t].x; sB[o + 1u] = rb[t].y; sB[o + 2u] = rb[t].z; sB[o + 3u] = rb[t].w; }
    }
    workgroupBarrier();
    let kn = k0 + BK;
    if (kn < p.K) {
      for (var t = 0u; t < A_PER; t++) { let e = lid + t * NT; if (e < BM * CH) { ra[t] = x_chunk(row0 + e / CH, kn + 4u * (e % CH)); } }
      for (var t = 0u; t < B_PER; t++) { let e = lid + t * NT; if (e < BN * CH) { rb[t] = w_chunk(col0 + e / CH, kn + 4u * (e % CH)); } }
    }
    for (var kk = 0u; kk < BK; kk += 16u) {
//@MMA_STEP
    }
    workgroupBarrier();
  }
  // Each 16 x 16 tile through workgroup memory, then element by element with bounds and bias.
  // (A matrix store straight into y would make y's binding at least 1 KiB: small outputs fail.)
//@EPILOGUE_SCRATCH
}

// One 16 x 16 tile of subgroup sg, staged in sC, to y at (r0, c0) with bounds and bias.
fn write_tile(sg: u32, lane: u32, r0: u32, c0: u32) {
  for (var t = 0u; t < 8u; t++) {
    let e = lane * 8u + t;
    let r = r0 + e / 16u;
    let c = c0 + e % 16u;
    if (r < p.M && c < p.N) {
      var v = sC[sg * 256u + e];
      if (p.hasBias == 1u) { v += bias[c]; }
      y[r * p.N + c] = v;
    }
  }
}
