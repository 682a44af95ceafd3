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
//
// Tiling (why): a cell covers up to block^2 pairs (at S 32768 a thumbnail cell is ~1366 x 1366),
// and reading q row i and k row j from global memory for every pair made the kernel bound by
// memory traffic (~0.2 TFLOP/s). Instead the workgroup walks the cell in T x T sub-tiles (T = 32
// rows of q by 32 keys): it stages the sub-tile's q rows and k rows in workgroup memory, D in
// chunks of DC dimensions (the host picks DC so that everything fits the adapter's
// maxComputeWorkgroupStorageSize; D = 128 may take several chunks), and each of the 8 x 8 threads
// keeps a 4 x 4 block of dot products in registers (rows 4ty.., keys 4tx..), so every staged value
// feeds 4 products and every global row 32. Sub-tiles wholly above the diagonal are skipped, and so
// is a thread's 4 x 4 block wholly above it or past the cell. The sub-tile's lse rows, key columns
// (col) and diagonal offsets (diag, 2T - 1 of them) are staged too, so the mask costs no global
// reads per pair. Small cells (block < T, block 1 included) stage and compute only the rows they
// have (rounded up to 4), so they cost about what the one-pair-per-thread kernel did (this matters
// for SwiftShader in CI). 64 threads: the old workgroup size, and 4 x 4 per thread keeps the
// accumulators in registers (constant indices after unrolling).
// Exactness is unchanged: the same f32 dot, exp and lse per pair; only the order of the f32 sums
// differs (per-thread running sums, then a tree); counts are exact u32.

override D: u32 = 64u;
override DC: u32 = 32u;   // dimensions staged at a time (1 <= DC <= D; the last chunk is zero-padded)
const T: u32 = 32u;       // sub-tile side: q rows and keys
const TS: u32 = 8u;       // threads per side of the workgroup
const R: u32 = 4u;        // pairs per thread per side (T = TS * R)
const_assert TS * TS == WG; // WG (pool-cell.wgsl) threads, TS x TS
// pool.ts POOL_FIXED_BYTES mirrors the fixed workgroup memory below (everything but sQ and sK).


var<workgroup> sQ: array<f32, DC * T>;  // [c][row] q rows of the sub-tile, dimensions c0 .. c0+DC-1
var<workgroup> sK: array<f32, DC * T>;  // [c][key] k rows likewise
var<workgroup> sLse: array<f32, T>;      // [row]
var<workgroup> sCol: array<u32, T>;      // [key] col of the key
var<workgroup> sDiag: array<u32, 2u * T>; // [row - key + T - 1] 1 = that offset kept

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let bcol = wid.x;
  let arow = wid.y;
  let hh = wid.z;
  let h = p.headStart + hh;
  let kvh = h / p.group;
  let tx = lid % TS;
  let ty = lid / TS;
  let i0 = p.r0 + arow * p.block;
  let j0 = p.c0 + bcol * p.block;
  let iEnd = min(min(i0 + p.block, p.r1), S); // exclusive
  let jEnd = min(min(j0 + p.block, p.c1), S);
  var mx = 0.0;
  var sum = 0.0;
  var miss = 0.0;
  var kept = 0u;
  var causal = 0u;
  // Every loop bound below depends on the uniform parameters and the workgroup id only, so the
  // barriers inside stay in uniform control flow. The cell is skipped when empty or wholly above
  // the diagonal (j0 > last row).
  if (i0 < iEnd && j0 < jEnd && j0 < iEnd) {
    for (var ti0 = i0; ti0 < iEnd; ti0 += T) {
      let nI = min(T, iEnd - ti0);
      let iLast = ti0 + nI - 1u;
      // Sub-tiles whose first key is past the sub-tile's last row hold no causal pair.
      for (var tj0 = j0; tj0 < jEnd && tj0 <= iLast; tj0 += T) {
        let nJ = min(T, jEnd - tj0);
        // Rows staged: those of the cell, rounded up to 4 (a thread reads 4 from 4ty); rows past the
        // cell (and dimensions past D) are staged as zeros, their products computed, never counted.
        let nR = (max(nI, nJ) + 3u) / 4u * 4u;
        // This thread's 4 x 4 block: inside the cell and not wholly above the diagonal.
        let busy = R * ty < nI && R * tx < nJ && tj0 + R * tx <= ti0 + R * ty + R - 1u;
        var acc = array<f32, 16>(); // zeros; [a * R + b] dot of row 4ty + a and key 4tx + b
        for (var c0 = 0u; c0 < D; c0 += DC) {
          workgroupBarrier(); // the previous chunk / sub-tile is done with the staged tiles
          // Consecutive threads take consecutive rows: conflict-free stores; the strided global
          // reads of a row are served from cache by the neighbouring dimensions' turns.
          for (var x = lid; x < nR * DC; x += WG) {
            let r = x % nR;
            let c = x / nR;
            let cc = c0 + c;
            var qv = 0.0;
            var kv = 0.0;
            if (cc < D) {
              if (r < nI) { qv = q[(h * S + ti0 + r) * D + cc]; }
              if (r < nJ) { kv = k[(kvh * S + tj0 + r) * D + cc]; }
            }
            sQ[c * T + r] = qv;
            sK[c * T + r] = kv;
          }
          if (c0 == 0u) {
            // The offsets of the sub-tile: o = (ti0 + r) - (tj0 + c) = base + idx, idx = r - c + T - 1.
            let base = i32(ti0) - i32(tj0) - i32(T - 1u);
            for (var x = lid; x < 2u * T; x += WG) {
              if (x < T) {
                var lv = 0.0;
                var cv = 0u;
                if (x < nI) { lv = lse[h * S + ti0 + x]; }
                if (x < nJ) { cv = col[h * S + tj0 + x]; }
                sLse[x] = lv;
                sCol[x] = cv;
              }
              let o = base + i32(x);
              var d = 0u;
              if (o >= 0 && u32(o) < S) {
                let ou = u32(o);
                var below = 0u;
                if (ou > 0u) { below = diagCum[h * S + ou - 1u]; }
                d = select(0u, 1u, diagCum[h * S + ou] != below);
              }
              sDiag[x] = d;
            }
          }
          workgroupBarrier();
          if (busy) {
            for (var c = 0u; c < DC; c++) {
              var qa: array<f32, 4>;
              var kb: array<f32, 4>;
              for (var a = 0u; a < R; a++) { qa[a] = sQ[c * T + R * ty + a]; }
              for (var b = 0u; b < R; b++) { kb[b] = sK[c * T + R * tx + b]; }
              for (var a = 0u; a < R; a++) {
                for (var b = 0u; b < R; b++) { acc[a * R + b] += qa[a] * kb[b]; }
              }
            }
          }
        }
        if (busy) {
          for (var a = 0u; a < R; a++) {
            let r = R * ty + a;
            if (r >= nI) { continue; }
            let i = ti0 + r;
            let l = sLse[r];
            for (var b = 0u; b < R; b++) {
              let c = R * tx + b;
              let j = tj0 + c;
              if (c >= nJ || j > i) { continue; }
              let pij = exp(acc[a * R + b] * p.scale - l);
              mx = max(mx, pij);
              sum += pij;
              causal++;
              if (sCol[c] != 0u || sDiag[r + T - 1u - c] != 0u) { kept++; } else { miss += pij; }
            }
          }
        }
      }
    }
  }
  writeCell(lid, arow, bcol, hh, mx, sum, miss, kept, causal);
}
