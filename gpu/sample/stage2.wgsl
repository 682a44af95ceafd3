// SampleAttention stage 2 (docs/SAMPLEATTENTION.md steps 5-6) on the GPU without sorting: one
// workgroup per head finds the score threshold where the kept mass crosses alpha * total, then
// breaks ties at the threshold by smaller index, exactly the prefix of the order "c_j descending,
// ties by smaller j" that src/sampleattention/spec/selection.ts selectKeys keeps.
//
// Scores are finite and >= 0, so their f32 bit patterns order like their values; all comparisons
// are on the bits. mass(T) = sum of the c_j with bits(c_j) >= T, summed in one fixed order (thread
// lid takes j = lid, lid + WG, ..., then a fixed fold and tree), so it never increases with T and
// mass(0) = total exactly. The kept set is:
//   T* = the largest T with mass(T) >= goal = alpha * total (a search over the bits, NTH
//        thresholds per pass, ~10 passes), which is the score of the last key kept;
//   every key with c_j > T*, and the first m keys (by index) with c_j = T*, m the fewest with
//   mass(> T*) + m T* >= goal.
// alpha = 1 keeps exactly the keys with c_j > 0 (stage 2's rule); at least one key is kept.
// Then one pass writes the 0/1 mask, the ascending key list (an exclusive scan of per-thread
// counts over contiguous segments), k and the stage-1 estimate (kept mass / n).
//
// Only `heads` workgroups run, so the search is bound by latency, not bandwidth: each thread keeps
// its first CACHE scores (j = lid + WG x) in registers, read once, and the ~12 passes over them
// read no memory; WG (256 .. 1024, stage2.ts: the most the adapter allows) and CACHE are
// prepended by stage2.ts. (Reading the scores from storage in every pass on 256 threads took
// 0.238 ms for 8 heads at S 32768 on the H200.)

const NTH: u32 = 8u;   // thresholds tested per pass
const RED: u32 = 256u; // slots of the reduction tree: WG threads fold onto them, WG / RED at a time
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> scores: array<f32>;          // (heads, S) c_j
@group(0) @binding(1) var<storage, read> headParams: array<f32>;      // (heads, 2): alpha, n
@group(0) @binding(2) var<storage, read_write> stats: array<u32>;     // (heads, 2): k, bitcast f32 stage-1 estimate
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;      // (heads, S) 1 = key kept
@group(0) @binding(4) var<storage, read_write> keyList: array<u32>;   // (heads, S) kept keys ascending, first k valid
struct Params { S: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> sRed: array<f32, RED * NTH>;
var<workgroup> sScan: array<vec2<u32>, WG>; // the largest score's bits (x), then the scans
var<private> cache: array<f32, CACHE>;      // scores lid + WG x, x < CACHE (0 past S)
var<workgroup> sLo: u32;
var<workgroup> sHi: u32;
var<workgroup> sT: u32;     // threshold bits T*
var<workgroup> sM: u32;     // ties at T* to keep
var<workgroup> sMore: u32;  // 1 while the search interval has inner points

fn add_masses(c: f32, thr: array<u32, NTH>, acc: ptr<function, array<f32, NTH>>) {
  let b = bitcast<u32>(c);
  for (var t = 0u; t < NTH; t++) { (*acc)[t] += select(0.0, c, b >= thr[t]); }
}

// Sums over all keys of a head of c_j where bits(c_j) >= thr[t], for NTH thresholds at once;
// results in sRed[t * RED] (all threads must call it: barriers inside).
fn masses(h: u32, lid: u32, thr: array<u32, NTH>) {
  var acc: array<f32, NTH>;
  for (var x = 0u; x < CACHE; x++) { add_masses(cache[x], thr, &acc); }
  for (var j = lid + WG * CACHE; j < p.S; j += WG) { add_masses(scores[h * p.S + j], thr, &acc); }
  // Threads q RED .. q RED + RED - 1 add onto the RED slots in turn (q ascending: a fixed order).
  for (var q = 0u; q < WG / RED; q++) {
    if (lid / RED == q) {
      for (var t = 0u; t < NTH; t++) {
        if (q == 0u) { sRed[t * RED + lid] = acc[t]; } else { sRed[t * RED + lid % RED] += acc[t]; }
      }
    }
    workgroupBarrier();
  }
  for (var stride = RED / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      for (var t = 0u; t < NTH; t++) { sRed[t * RED + lid] += sRed[t * RED + lid + stride]; }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn select_keys(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = p.S;
  let h = wid.x;
  let alpha = headParams[h * 2u];
  let n = headParams[h * 2u + 1u];

  // Pass 0: this thread's scores into registers; total (threshold 0), the largest score's bits,
  // the mass above 0.
  var mx = 0u;
  for (var x = 0u; x < CACHE; x++) {
    let j = lid + WG * x;
    var c = 0.0;
    if (j < S) { c = scores[h * S + j]; }
    cache[x] = c;
    mx = max(mx, bitcast<u32>(c));
  }
  for (var j = lid + WG * CACHE; j < S; j += WG) { mx = max(mx, bitcast<u32>(scores[h * S + j])); }
  sScan[lid] = vec2<u32>(mx, 0u);
  var thr: array<u32, NTH>;
  thr[1] = 1u; // mass of the positive scores
  masses(h, lid, thr);
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { sScan[lid].x = max(sScan[lid].x, sScan[lid + stride].x); }
    workgroupBarrier();
  }
  let total = workgroupUniformLoad(&sRed[0]); // uniform: decides which passes run below
  let positiveMass = sRed[RED];
  let maxBits = sScan[0].x;
  let goal = alpha * total;
  workgroupBarrier();
  if (lid == 0u) {
    sLo = 0u;
    sHi = maxBits + 1u;
    sT = 0u;
    sM = 0u;
    sMore = 0u;
    if (alpha >= 1.0) {
      // Every key with c_j > 0: threshold 0 with no ties kept; no positive score: key 0 alone.
      sM = select(0u, 1u, maxBits == 0u);
    } else if (!(goal > 0.0)) {
      sT = maxBits; // nothing to reach: the single top key (smallest index among the maxima)
      sM = 1u;
    } else {
      sMore = select(0u, 1u, sHi - sLo > 1u);
    }
  }
  // Invariant: mass(lo) >= goal > mass(hi). Shrink (lo, hi) ~NTH + 1 fold per pass.
  loop {
    if (workgroupUniformLoad(&sMore) == 0u) { break; }
    let lo = sLo;
    let hi = sHi;
    let step = (hi - lo) / (NTH + 1u);
    for (var t = 0u; t < NTH; t++) { thr[t] = min(lo + max(step, 1u) * (t + 1u), hi); }
    masses(h, lid, thr);
    if (lid == 0u) {
      var nlo = lo;
      var nhi = hi;
      for (var t = 0u; t < NTH; t++) {
        if (thr[t] >= hi) { break; }
        if (sRed[t * RED] >= goal) { nlo = thr[t]; } else { nhi = min(nhi, thr[t]); break; }
      }
      sLo = nlo;
      sHi = nhi;
      sMore = select(0u, 1u, nhi - nlo > 1u);
    }
  }
  workgroupBarrier();
  if (alpha < 1.0 && goal > 0.0) {
    // mass(> T*) = mass(T* + 1); ties by the count below.
    let tstar = sLo;
    for (var t = 0u; t < NTH; t++) { thr[t] = tstar + 1u; }
    masses(h, lid, thr);
    let above = sRed[0];
    let tv = bitcast<f32>(tstar);
    var ties = 0u;
    for (var x = 0u; x < CACHE; x++) { ties += select(0u, 1u, lid + WG * x < S && bitcast<u32>(cache[x]) == tstar); }
    for (var j = lid + WG * CACHE; j < S; j += WG) { ties += select(0u, 1u, bitcast<u32>(scores[h * S + j]) == tstar); }
    sScan[lid] = vec2<u32>(ties, 0u);
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
      workgroupBarrier();
      if (lid < stride) { sScan[lid].x += sScan[lid + stride].x; }
    }
    workgroupBarrier();
    if (lid == 0u) {
      let allTies = max(sScan[0].x, 1u);
      var m = u32(clamp(ceil((goal - above) / tv), 1.0, f32(allTies)));
      // f32 rounding of m * T*: settle on the fewest ties whose sum reaches the goal.
      for (var it = 0u; it < 64u && m > 1u && above + f32(m - 1u) * tv >= goal; it++) { m--; }
      for (var it = 0u; it < 64u && m < allTies && above + f32(m) * tv < goal; it++) { m++; }
      sT = tstar;
      sM = m;
    }
  }
  workgroupBarrier();
  let tstar = sT;
  let mTies = sM;

  // Keep flags over contiguous segments: thread lid owns keys [lo, hi).
  let seg = (S + WG - 1u) / WG;
  let lo = min(lid * seg, S);
  let hi = min(lo + seg, S);
  var nTie = 0u;
  var nAbove = 0u;
  for (var j = lo; j < hi; j++) {
    let b = bitcast<u32>(scores[h * S + j]);
    nTie += select(0u, 1u, b == tstar);
    nAbove += select(0u, 1u, b > tstar);
  }
  // Inclusive scan of (ties, above) over threads (integers: exact).
  sScan[lid] = vec2<u32>(nTie, nAbove);
  for (var off = 1u; off < WG; off *= 2u) {
    workgroupBarrier();
    var add = vec2<u32>(0u);
    if (lid >= off) { add = sScan[lid - off]; }
    workgroupBarrier();
    sScan[lid] += add;
  }
  workgroupBarrier();
  let incl = sScan[lid];
  let tieTotal = sScan[WG - 1u].x;
  var tieRank = incl.x - nTie; // ties before this segment
  let keptTies = min(mTies, tieTotal);
  // Kept keys before this segment: all "above" ones plus the ties among the first keptTies.
  var o = (incl.y - nAbove) + min(tieRank, keptTies);
  for (var j = lo; j < hi; j++) {
    let b = bitcast<u32>(scores[h * S + j]);
    var keep = b > tstar;
    if (b == tstar) {
      keep = tieRank < keptTies;
      tieRank++;
    }
    mask[h * S + j] = select(0u, 1u, keep);
    if (keep) { keyList[h * S + o] = j; o++; }
  }
  if (lid == WG - 1u) {
    let count = incl.y + keptTies;
    stats[h * 2u] = count;
    var kept = positiveMass;
    if (alpha < 1.0) {
      kept = sRed[0] + f32(keptTies) * bitcast<f32>(tstar); // mass above T* (still in sRed) + ties
      if (!(goal > 0.0)) { kept = bitcast<f32>(tstar); }
    }
    stats[h * 2u + 1u] = bitcast<u32>(kept / n);
  }
}
