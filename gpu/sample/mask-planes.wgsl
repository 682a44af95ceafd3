// Both SampleAttention variants' masks in one form, so one measures kernel and one pooling kernel
// serve every head (src/sampleattention/spec/mask-planes.ts is the float64 twin):
//   M_ij = 1 if j <= i and (col[j] or diag[i - j]),
// stored as col (heads, S) u32 and diagCum (heads, S) u32, diagCum[o] = kept offsets in 0..o (a
// prefix count: the measures count kept entries exactly from it in O(S), the pool reads
// diag[o] = diagCum[o] - diagCum[o - 1]). Each entry point writes the planes of one group of
// heads (one variant, one block size) at the layer's head rows dstHead[hh], and the layer's
// drawing scores: c_j for tokens heads, the column-block score C_J of j's block for blocks heads.

const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> sel: array<u32>;          // tokens: key mask (gh, S); blocks: kept (2, gh, nb)
@group(0) @binding(1) var<storage, read> windows: array<u32>;      // tokens: (gh) w per head
@group(0) @binding(2) var<storage, read> scores: array<f32>;       // tokens: c_j (gh, S); blocks: strips (2, gh, nb)
@group(0) @binding(3) var<storage, read> dstHead: array<u32>;      // (gh): the layer head of group head hh
@group(0) @binding(4) var<storage, read_write> col: array<u32>;    // (heads, S)
@group(0) @binding(5) var<storage, read_write> diagCum: array<u32>; // (heads, S)
@group(0) @binding(6) var<storage, read_write> layerScores: array<f32>; // (heads, S)
struct Params { S: u32, gh: u32, b: u32, nb: u32 }
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> sScan: array<u32, WG>;

// tokens: col = I_KV, diag[o] = o < max(w, 1), so diagCum[o] = min(o + 1, max(w, 1)).
// Workgroups (ceil(S / WG), gh).
@compute @workgroup_size(WG)
fn tokens_planes(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let hh = wid.y;
  let j = wid.x * WG + lid;
  if (j >= S) { return; }
  let h = dstHead[hh];
  col[h * S + j] = select(0u, 1u, sel[hh * S + j] != 0u);
  diagCum[h * S + j] = min(j + 1u, max(windows[hh], 1u));
  layerScores[h * S + j] = scores[hh * S + j];
}

// blocks: col[j] = block floor(j / b) kept, diag[o] = band floor(o / b) kept; diagCum by a
// workgroup scan over the offsets in chunks of WG (Hillis-Steele, exact u32). One workgroup per head.
@compute @workgroup_size(WG)
fn blocks_planes(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let hh = wid.x;
  let h = dstHead[hh];
  var carry = 0u;
  for (var base = 0u; base < S; base += WG) {
    let j = base + lid;
    var flag = 0u;
    if (j < S) {
      let J = j / p.b;
      col[h * S + j] = select(0u, 1u, sel[hh * p.nb + J] != 0u);
      layerScores[h * S + j] = scores[hh * p.nb + J];
      flag = select(0u, 1u, sel[(p.gh + hh) * p.nb + J] != 0u);
    }
    sScan[lid] = flag;
    for (var off = 1u; off < WG; off *= 2u) {
      workgroupBarrier();
      var t = 0u;
      if (lid >= off) { t = sScan[lid - off]; }
      workgroupBarrier();
      sScan[lid] += t;
    }
    workgroupBarrier();
    if (j < S) { diagCum[h * S + j] = carry + sScan[lid]; }
    carry += sScan[WG - 1u];
    workgroupBarrier();
  }
}
