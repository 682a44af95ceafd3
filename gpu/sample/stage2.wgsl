// SampleAttention stage 2 (docs/SAMPLEATTENTION.md steps 5-6) on the GPU, all heads at once:
// 1. a bitonic sort of every head's keys by (c_j descending, j ascending), padded to P = 2^m >= 512
//    with entries (c = -1, j >= S) that sort last (sort_init, sort_global_step, sort_local_merge);
// 2. select_count: one workgroup per head scans the sorted scores (f32) and finds the smallest k
//    whose running sum reaches alpha * total (alpha = 1: every key with c_j > 0), like the float64
//    reference in src/sample/selection.ts; writes k and the stage-1 estimate;
// 3. write_mask: mask[h, j] = 1 for the first k sorted keys, 0 for the rest;
// 4. compact: the kept keys of each head as an ascending list (a prefix sum of the mask).

const WG: u32 = 256u;
const BLOCK: u32 = 512u; // elements sorted in workgroup memory by one workgroup
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> scores: array<f32>;          // (heads, S) c_j
@group(0) @binding(1) var<storage, read_write> sortVal: array<f32>;   // (heads, P) sorted c
@group(0) @binding(2) var<storage, read_write> sortIdx: array<u32>;   // (heads, P) sorted j
@group(0) @binding(3) var<storage, read> headParams: array<f32>;      // (heads, 2): alpha, n
@group(0) @binding(4) var<storage, read_write> stats: array<u32>;     // (heads, 2): k, bitcast f32 stage-1 estimate
@group(0) @binding(5) var<storage, read_write> mask: array<u32>;      // (heads, S) 1 = key kept
@group(0) @binding(6) var<storage, read_write> keyList: array<u32>;   // (heads, S) kept keys ascending, first k valid
struct Params { S: u32, P: u32, k: u32, j: u32, heads: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(7) var<uniform> p: Params;

// Never true at run time; names every binding so all entry points share one layout under 'auto'.
fn keep_bindings(lid: u32) {
  if (lid == NONE) {
    sortVal[0] = scores[0] + headParams[0];
    sortIdx[0] = 0u; stats[0] = 0u; mask[0] = 0u; keyList[0] = 0u;
  }
}

// a goes before b: larger score first, then smaller index.
fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return va > vb || (va == vb && ia < ib);
}

var<workgroup> sVal: array<f32, BLOCK>;
var<workgroup> sIdx: array<u32, BLOCK>;

// Compare-exchange pair t of stride j inside the block starting at global position base.
fn local_step(t: u32, base: u32, k: u32, j: u32) {
  let i = (t / j) * 2u * j + t % j;
  let l = i + j;
  let up = ((base + i) & k) == 0u;
  let va = sVal[i]; let ia = sIdx[i];
  let vb = sVal[l]; let ib = sIdx[l];
  let swap = select(before(va, ia, vb, ib), before(vb, ib, va, ia), up);
  if (swap) { sVal[i] = vb; sIdx[i] = ib; sVal[l] = va; sIdx[l] = ia; }
}

fn load_block(h: u32, base: u32, lid: u32) {
  for (var x = lid; x < BLOCK; x += WG) {
    sVal[x] = sortVal[h * p.P + base + x];
    sIdx[x] = sortIdx[h * p.P + base + x];
  }
}

fn store_block(h: u32, base: u32, lid: u32) {
  for (var x = lid; x < BLOCK; x += WG) {
    sortVal[h * p.P + base + x] = sVal[x];
    sortIdx[h * p.P + base + x] = sIdx[x];
  }
}

// Workgroup (block b, head h): load scores with padding, sort stages k = 2 .. 512.
@compute @workgroup_size(WG)
fn sort_init(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let h = wid.y;
  let base = wid.x * BLOCK;
  for (var x = lid; x < BLOCK; x += WG) {
    let g = base + x;
    var val = -1.0; // below every real score (c_j >= 0): padding sorts last
    if (g < p.S) { val = scores[h * p.S + g]; }
    sVal[x] = val;
    sIdx[x] = g;
  }
  for (var k = 2u; k <= BLOCK; k *= 2u) {
    for (var j = k / 2u; j > 0u; j /= 2u) {
      workgroupBarrier();
      local_step(lid, base, k, j);
    }
  }
  workgroupBarrier();
  store_block(h, base, lid);
}

// Stage k, strides j = 256 .. 1, inside each block (strides >= 512 were done by sort_global_step).
@compute @workgroup_size(WG)
fn sort_local_merge(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let h = wid.y;
  let base = wid.x * BLOCK;
  load_block(h, base, lid);
  for (var j = BLOCK / 2u; j > 0u; j /= 2u) {
    workgroupBarrier();
    local_step(lid, base, p.k, j);
  }
  workgroupBarrier();
  store_block(h, base, lid);
}

// One compare-exchange of stage k, stride j (>= 512) per thread; workgroups (P / 2 / WG, heads).
@compute @workgroup_size(WG)
fn sort_global_step(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let h = wid.y;
  let t = wid.x * WG + lid;
  if (t >= p.P / 2u) { return; }
  let i = (t / p.j) * 2u * p.j + t % p.j;
  let l = i + p.j;
  let up = (i & p.k) == 0u;
  let a = h * p.P + i;
  let b = h * p.P + l;
  let va = sortVal[a]; let ia = sortIdx[a];
  let vb = sortVal[b]; let ib = sortIdx[b];
  let swap = select(before(va, ia, vb, ib), before(vb, ib, va, ia), up);
  if (swap) { sortVal[a] = vb; sortIdx[a] = ib; sortVal[b] = va; sortIdx[b] = ia; }
}

var<workgroup> sScan: array<f32, WG>;
var<workgroup> sPos: array<u32, WG>;
var<workgroup> sFirst: atomic<u32>;
var<workgroup> sCount: u32;

// One workgroup per head. Thread t owns sorted positions [t seg, (t + 1) seg) of 0 .. S-1.
@compute @workgroup_size(WG)
fn select_count(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let S = p.S;
  let h = wid.x;
  let alpha = headParams[h * 2u];
  let n = headParams[h * 2u + 1u];
  let seg = (S + WG - 1u) / WG;
  let lo = min(lid * seg, S);
  let hi = min(lo + seg, S);
  var part = 0.0;
  var positives = 0u;
  for (var x = lo; x < hi; x++) {
    let c = sortVal[h * p.P + x];
    part += c;
    if (c > 0.0) { positives++; }
  }
  if (lid == 0u) { atomicStore(&sFirst, NONE); }
  sScan[lid] = part;
  sPos[lid] = positives;
  // Inclusive scan of the partial sums (Hillis-Steele) and a sum of the positive counts.
  for (var off = 1u; off < WG; off *= 2u) {
    workgroupBarrier();
    var add = 0.0;
    var addPos = 0u;
    if (lid >= off) { add = sScan[lid - off]; addPos = sPos[lid - off]; }
    workgroupBarrier();
    sScan[lid] += add;
    sPos[lid] += addPos;
  }
  workgroupBarrier();
  let total = sScan[WG - 1u];
  let allPositive = sPos[WG - 1u];
  var prefix = 0.0; // sum of the positions before this thread's segment
  if (lid > 0u) { prefix = sScan[lid - 1u]; }
  if (alpha < 1.0) {
    let goal = alpha * total;
    var running = prefix;
    for (var x = lo; x < hi; x++) {
      running += sortVal[h * p.P + x];
      if (running >= goal) { atomicMin(&sFirst, x); break; }
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let first = atomicLoad(&sFirst);
    // alpha = 1, or f32 rounding kept the running sum just below alpha * total: every positive key.
    var count = select(first + 1u, allPositive, first == NONE);
    count = clamp(count, 1u, S);
    sCount = count;
    stats[h * 2u] = count;
  }
  workgroupBarrier();
  let count = sCount;
  // The stage-1 estimate: running sum through position count - 1, over n.
  if (count - 1u >= lo && count - 1u < hi) {
    var running = prefix;
    for (var x = lo; x < count; x++) { running += sortVal[h * p.P + x]; }
    stats[h * 2u + 1u] = bitcast<u32>(running / n);
  }
}

// Workgroups (ceil(S / WG), heads): every key of every head gets 0 or 1.
@compute @workgroup_size(WG)
fn write_mask(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let h = wid.y;
  let x = wid.x * WG + lid;
  if (x >= p.S) { return; }
  let j = sortIdx[h * p.P + x];
  mask[h * p.S + j] = select(0u, 1u, x < stats[h * 2u]);
}

var<workgroup> sOff: array<u32, WG>;

// One workgroup per head: exclusive prefix sum of the mask, then each thread writes its kept keys.
@compute @workgroup_size(WG)
fn compact(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  keep_bindings(lid);
  let S = p.S;
  let h = wid.x;
  let seg = (S + WG - 1u) / WG;
  let lo = min(lid * seg, S);
  let hi = min(lo + seg, S);
  var cnt = 0u;
  for (var j = lo; j < hi; j++) { cnt += mask[h * S + j]; }
  sOff[lid] = cnt;
  for (var off = 1u; off < WG; off *= 2u) {
    workgroupBarrier();
    var add = 0u;
    if (lid >= off) { add = sOff[lid - off]; }
    workgroupBarrier();
    sOff[lid] += add;
  }
  workgroupBarrier();
  var o = sOff[lid] - cnt; // exclusive offset (integers: exact)
  for (var j = lo; j < hi; j++) {
    if (mask[h * S + j] != 0u) { keyList[h * S + o] = j; o++; }
  }
}
