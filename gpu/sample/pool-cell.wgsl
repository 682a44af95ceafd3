// What both pooled-map kernels share (pool.wgsl, tiled; pool-pairs.wgsl, one pair at a time): the
// bindings, and the cell's reduction of its threads' partial max P, sum P, missed mass and exact
// kept / causal counts by a fixed tree into the four planes. Prepended by pool.ts; the kernel
// declares D, and calls writeCell from uniform control flow (it has barriers).

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> q: array<f32>;           // (heads, S, D)
@group(0) @binding(1) var<storage, read> k: array<f32>;           // (kvHeads, S, D)
@group(0) @binding(2) var<storage, read> lse: array<f32>;         // (heads, S) dense log-sum-exp
@group(0) @binding(3) var<storage, read> col: array<u32>;         // (heads, S) 1 = key column kept
@group(0) @binding(4) var<storage, read> diagCum: array<u32>;     // (heads, S) kept offsets in 0..o
@group(0) @binding(5) var<storage, read_write> pooled: array<f32>; // (headCount, 4, rows, cols)
struct Params {
  S: u32, rows: u32, cols: u32, block: u32,
  headStart: u32, group: u32, scale: f32, r0: u32,
  r1: u32, c0: u32, c1: u32, pad0: u32,
}
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> sMax: array<f32, WG>;
var<workgroup> sSum: array<f32, WG>;
var<workgroup> sMiss: array<f32, WG>;
var<workgroup> sKept: array<u32, WG>;
var<workgroup> sCausal: array<u32, WG>;

fn writeCell(lid: u32, arow: u32, bcol: u32, hh: u32, mx: f32, sum: f32, miss: f32, kept: u32, causal: u32) {
  sMax[lid] = mx; sSum[lid] = sum; sMiss[lid] = miss; sKept[lid] = kept; sCausal[lid] = causal;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      sMax[lid] = max(sMax[lid], sMax[lid + stride]);
      sSum[lid] += sSum[lid + stride];
      sMiss[lid] += sMiss[lid + stride];
      sKept[lid] += sKept[lid + stride];
      sCausal[lid] += sCausal[lid + stride];
    }
  }
  if (lid == 0u) {
    let n = p.rows * p.cols;
    let cell = arow * p.cols + bcol;
    let base = hh * 4u * n;
    pooled[base + cell] = sMax[0];
    pooled[base + n + cell] = sSum[0];
    pooled[base + 2u * n + cell] = select(0.0, f32(sKept[0]) / f32(sCausal[0]), sCausal[0] > 0u);
    pooled[base + 3u * n + cell] = sMiss[0];
  }
}
