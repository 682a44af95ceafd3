// Candidate dense causal flash attention on tensor cores (issue 12's speed work), the same
// out (heads, S, d) and lse (heads, S) as the dense mode of attention.wgsl. flash-direct.ts
// prepends the matrix primitives and the constants D, ND (= D / 16), BKT, NK (= BKT / 16), NSG,
// NT, BQ (= 16 NSG), SS, PS, and replaces the //@ lines with code unrolled over the matrices.
// What differs from attention.wgsl:
//  - q, k, v are f16 in memory (converted once by the launcher, rows padded so every 16-row
//    matrix load stays inside the buffer: Dawn's robustness would move it to offset 0), and the
//    matrices are loaded by subgroupMatrixLoad straight from the storage buffers: Q once per
//    subgroup into registers, K and V per tile by every subgroup (the workgroup's subgroups share
//    them through the cache), so no thread copies K or V into workgroup memory;
//  - three workgroup barriers per key tile (scores stored / rescale flag / probabilities stored),
//    not six: the rescale flag is an atomic holding the last tile that needs one, read with
//    workgroupUniformLoad, so it is never reset;
//  - exp2 on scores pre-multiplied by scale log2(e) (lse converted back to natural log).
// Subgroup sg owns rows q0 + 16 sg .. + 15; thread pair (2 r, 2 r + 1) does row r's softmax over
// interleaved halves of the tile's keys. The lazy rescale (raise the reference max m only when a
// row's tile max exceeds it by TAU2 = 8 / ln 2 in log2 units, so p <= e^8 fits f16) is that of
// attention.wgsl; O is rescaled through workgroup memory, one 16 x 16 scratch per subgroup.

const NONE: u32 = 0xffffffffu;
const NEG: f32 = -1e30;
const HALF_NEG: f32 = -5e29;
const TAU2: f32 = 11.5415603;  // 8 / ln 2
const LN2: f32 = 0.693147181;
const HALF_KEYS: u32 = BKT / 2u;

@group(0) @binding(0) var<storage, read> q: array<f16>;   // (heads, S + pad, D) f16
@group(0) @binding(1) var<storage, read> k: array<f16>;   // (kvHeads, S, D) f16 + pad rows
@group(0) @binding(2) var<storage, read> v: array<f16>;   // (kvHeads, S, D) f16 + pad rows
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // (heads, S, D)
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;  // (heads, S)
struct Params { S: u32, group: u32, scale2: f32, pad0: u32 }
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> sS: array<f32, BQ * SS>;   // [row][key] scores (stride SS); 16 x 16 scratch per subgroup
var<workgroup> sP: array<f16, BQ * PS>;   // [row][key] probabilities
var<workgroup> sCorr: array<f32, BQ>;
var<workgroup> sFlag: atomic<u32>;        // the last tile (t + 1) some row needed a rescale in

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  prim_init(lid);
  let S = p.S;
  let h = wid.y;
  let g = h / p.group;
  let q0 = (nwg.x - 1u - wid.x) * BQ; // the longest (last) query blocks start first
  let sg = lid / 32u;
  let lane = lid % 32u;
  let r = lid / 2u;
  let half = lid % 2u;
  let i = q0 + r;
  let qbase = (h * S + q0 + 16u * sg) * D;
  let kbase = g * S * D;
//@DECL
  var m = NEG;   // reference max of row r, log2 units (both threads of the pair hold the same)
  var l = 0.0;   // this thread's share of row r's sum
  let nTiles = (min(q0 + BQ, S) + BKT - 1u) / BKT;
  for (var t = 0u; t < nTiles; t++) {
    let j0 = t * BKT;
//@QK
    workgroupBarrier();
    var tmax = NEG;
    for (var uu = 0u; uu < HALF_KEYS; uu++) {
      let u = 2u * uu + half;
      let j = j0 + u;
      let s = select(NEG, sS[r * SS + u] * p.scale2, j <= i && i < S);
      sS[r * SS + u] = s;
      tmax = max(tmax, s);
    }
    tmax = max(tmax, subgroupShuffleXor(tmax, 1u));
    if (tmax > m + TAU2) { atomicMax(&sFlag, t + 1u); }
    let rescale = workgroupUniformLoad(&sFlag) == t + 1u;
    if (rescale) {
      let mn = max(m, tmax);
      let corr = exp2(m - mn);
      l *= corr;
      m = mn;
      if (half == 0u) { sCorr[r] = corr; }
    }
    for (var uu = 0u; uu < HALF_KEYS; uu++) {
      let u = 2u * uu + half;
      let s = sS[r * SS + u];
      let pr = select(0.0, exp2(s - m), s > HALF_NEG); // masked: exactly 0
      l += pr;
      sP[r * PS + u] = f16(pr);
    }
    workgroupBarrier();
    if (rescale) {
//@RESCALE_O
    }
//@PV
  }
  l += subgroupShuffleXor(l, 1u);
  workgroupBarrier();
//@STORE_O
  if (half == 0u && i < S) { lse[h * S + i] = (m + log2(l)) * LN2; }
}

// One 16 x 16 output tile (dims c0 ..) of subgroup sg from its scratch to out, divided by l.
fn write_out(h: u32, i: u32, sg: u32, lane: u32, c0: u32, l: f32) {
  if (i >= p.S) { return; }
  for (var t = 0u; t < 8u; t++) {
    let c = c0 + (lane % 2u) * 8u + t;
    out[(h * p.S + i) * D + c] = sS[sg * 16u * SS + lane * 8u + t] / l;
  }
}

// Scales this lane's 8 scratch values (row 16 sg + lane / 2) by the row's correction.
fn scale_scratch(sg: u32, lane: u32) {
  let corr = sCorr[sg * 16u + lane / 2u];
  for (var t = 0u; t < 8u; t++) { sS[sg * 16u * SS + lane * 8u + t] *= corr; }
}
