// One-row matmul (a decode step's projections and the LM head of the last position):
// y[n] = x[row0, :] . W[n, :] (+ b[n]), W (N, K) in the Linear layout, f32 or f16 (the header
// sets WT: f16 weights are widened per element, the sum is f32). The 64 x 64 tiles of the prefill's
// matmul would spend 63 of 64 rows on nothing here; instead 8 rows per 256-thread workgroup, 32
// threads per row striding over K (neighbouring threads read neighbouring weights), then a
// workgroup-memory tree over the 32 partial sums.

const ROWS: u32 = 8u;
const LANES: u32 = 32u;

@group(0) @binding(0) var<storage, read> x: array<f32>;          // (rows, K)
@group(0) @binding(1) var<storage, read> w: array<WT>;           // (N, K)
@group(0) @binding(2) var<storage, read> b: array<f32>;          // (N), read only when hasBias = 1
@group(0) @binding(3) var<storage, read_write> y: array<f32>;    // (1, N)
struct Params { N: u32, K: u32, hasBias: u32, row0: u32 }
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = lid / LANES;
  let lane = lid % LANES;
  let n = (wid.x + wid.y * nwg.x) * ROWS + r;
  var acc = 0.0;
  if (n < p.N) {
    let xb = p.row0 * p.K;
    let wb = n * p.K;
    for (var k = lane; k < p.K; k += LANES) { acc = fma(x[xb + k], f32(w[wb + k]), acc); }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (lane == 0u && n < p.N) {
    var v = part[lid];
    if (p.hasBias == 1u) { v += b[n]; }
    y[n] = v;
  }
}
