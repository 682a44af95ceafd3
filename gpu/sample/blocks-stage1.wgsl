// Stage 1 of SampleAttention's `blocks` variant (docs/SAMPLEATTENTION.md, "Variant `blocks`",
// step 4) on the GPU, after the sampled rows' log-sum-exp (gpu/attention/tiled.wgsl MODE 2):
//   kind 0: C_J = sum over sampled rows i, keys j in block J (j <= i) of exp(scale q_i . k_j - lse_i)
//   kind 1: D_o = sum over sampled rows i, keys j <= i with floor((i - j) / b) = o of the same.
// One workgroup per (index J or o, head, kind). Its WG threads stride over the (sampled slot, key
// within the block) pairs, each recomputing its dot product from global memory (no tiles: stage 1
// touches |R| * S entries per kind, the same order as the row pass), and the WG partial sums are
// added by a fixed tree, so the result does not depend on scheduling (no atomics: WGSL has no f32
// atomics, and a fixed order keeps runs reproducible).
// On the tensor-core path (p.fromScores = 1) the column blocks instead add up the column scores
// c_j = sum over sampled rows i >= j of P_ij that its stage 1 computed on tensor cores
// (tensorcore/attention.wgsl column_sums): C_J = sum over j in block J of c_j, the same sum in
// another order; the slash bands, whose sums follow diagonals, stay here.
// Prepended by blocks-stages.ts: const D: u32 (head dim) and fn operand(x: f32) -> f32, q and k
// as the row pass read them (x, or x rounded to f16).

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> q: array<f32>;           // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;           // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> rows: array<u32>;        // (heads, nMax) sampled rows ascending
@group(0) @binding(3) var<storage, read> cnt: array<u32>;         // (heads) sampled row count |R|
@group(0) @binding(4) var<storage, read> lse: array<f32>;         // (heads, nMax) log-sum-exp of each sampled row
@group(0) @binding(5) var<storage, read_write> strips: array<f32>; // (2, heads, nb): C then D
@group(0) @binding(6) var<storage, read> colScores: array<f32>;    // (heads, S) c_j (read when p.fromScores = 1)
struct Params { S: u32, group: u32, scale: f32, nMax: u32, b: u32, nb: u32, heads: u32, fromScores: u32 }
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> sRed: array<f32, WG>;

@compute @workgroup_size(WG)
fn strip_sums(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let x = wid.x; // J (kind 0) or o (kind 1)
  let h = wid.y;
  let kind = wid.z;
  let b = p.b;
  let n = cnt[h];
  let qBase = h * p.S * D;
  let kBase = (h / p.group) * p.S * D;
  // Column blocks: rows below the block's first key see none of it; rows ascend, so skip them.
  var lo = 0u;
  if (kind == 0u) {
    var hi = n;
    while (lo < hi) {
      let mid = (lo + hi) / 2u;
      if (rows[h * p.nMax + mid] < x * b) { lo = mid + 1u; } else { hi = mid; }
    }
  }
  var acc = 0.0;
  if (p.fromScores == 1u && kind == 0u) {
    for (var j = x * b + lid; j < min((x + 1u) * b, p.S); j += WG) { acc += colScores[h * p.S + j]; }
    lo = n; // the pairs below are done
  }
  for (var pair = lo * b + lid; pair < n * b; pair += WG) {
    let slot = pair / b;
    let u = pair % b;
    let i = rows[h * p.nMax + slot];
    var j = 0u;
    if (kind == 0u) {
      j = x * b + u;
      if (j > i) { continue; } // also covers j >= S (i < S)
    } else {
      let dist = x * b + u;
      if (dist > i) { continue; }
      j = i - dist;
    }
    var dot = 0.0;
    for (var c = 0u; c < D; c++) { dot += operand(q[qBase + i * D + c]) * operand(k[kBase + j * D + c]); }
    acc += exp(dot * p.scale - lse[h * p.nMax + slot]);
  }
  sRed[lid] = acc;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { sRed[lid] += sRed[lid + stride]; }
  }
  if (lid == 0u) { strips[(kind * p.heads + h) * p.nb + x] = sRed[0]; }
}
