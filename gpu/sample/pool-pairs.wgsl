// The pooled maps of pool.wgsl for small cells (block < POOL_TILED_MIN_BLOCK in pool.ts), one pair
// at a time from global memory: for a cell of a few tokens a side (the exact zoom is block 1) the
// tiled kernel's staging costs more than it saves. Same bindings, outputs and definitions:
// Pooled attention maps for display at any S, without an S x S buffer: for each chosen head a
// (rows, cols) grid over a viewport of the map: query rows r0 .. r1-1 and keys c0 .. c1-1 (the
// whole map by default). Cell (a, b) covers query rows r0 + a*block .. r0 + a*block + block-1 and
// keys c0 + b*block .. c0 + b*block + block-1, clipped to the viewport (block 1: one cell per
// token, exact). Per cell, from the full causal P (recomputed from q, k and the dense lse) and the
// SampleAttention mask M (either variant, as the mask planes of mask-planes.wgsl:
// M_ij = j <= i and (col[j] or diag[i - j]), diag[o] = diagCum[o] - diagCum[o - 1]):
//   plane 0: max P          plane 1: sum P
//   plane 2: kept fraction = #(M = 1) / #(causal entries j <= i), 0 for a cell with none
//   plane 3: missed mass   = sum of P where M = 0 (and j <= i)
// One workgroup per (b, a, head); cells wholly above the diagonal exit at once (all zeros).

override D: u32 = 64u;



@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let bcol = wid.x;
  let arow = wid.y;
  let hh = wid.z;
  let h = p.headStart + hh;
  let kvh = h / p.group;
  let i0 = p.r0 + arow * p.block;
  let j0 = p.c0 + bcol * p.block;
  let iEnd = min(min(i0 + p.block, p.r1), S); // exclusive
  let jEnd = min(min(j0 + p.block, p.c1), S);
  var mx = 0.0;
  var sum = 0.0;
  var miss = 0.0;
  var kept = 0u;
  var causal = 0u;
  if (i0 < iEnd && j0 < jEnd && j0 < iEnd) { // not empty, not wholly above the diagonal
    let n = p.block * p.block;
    for (var x = lid; x < n; x += WG) {
      let i = i0 + x / p.block;
      let j = j0 + x % p.block;
      if (i >= iEnd || j >= jEnd || j > i) { continue; }
      var dot = 0.0;
      for (var c = 0u; c < D; c++) { dot += q[(h * S + i) * D + c] * k[(kvh * S + j) * D + c]; }
      let pij = exp(dot * p.scale - lse[h * S + i]);
      mx = max(mx, pij);
      sum += pij;
      causal++;
      let o = i - j;
      var below = 0u;
      if (o > 0u) { below = diagCum[h * S + o - 1u]; }
      if (col[h * S + j] != 0u || diagCum[h * S + o] != below) { kept++; } else { miss += pij; }
    }
  }
  writeCell(lid, arow, bcol, hh, mx, sum, miss, kept, causal);
}
