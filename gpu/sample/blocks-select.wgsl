// Stage 2 of SampleAttention's `blocks` variant (docs/SAMPLEATTENTION.md, "Variant `blocks`",
// step 5) on the GPU, both kinds in one dispatch: one workgroup per (head, kind). The rule is
// src/sample/blocks/selection.ts selectStrips in f32:
//   order: the pinned index first (band 0 for kind 1, none for kind 0), then by score descending,
//          ties by smaller index; found by ranks (rank t = how many indices go before t), O(nb^2)
//          compares spread over the threads: nb = ceil(S / b) is small next to S;
//   running sum in that order, in f32, one thread, compared exactly with alpha * total;
//   alpha = 1 keeps exactly the positive scores (plus the pinned one); at least one index.
// Why not stage2.wgsl's threshold search: it has no pinned index, and its sums run in a tree,
// not in the order of the spec; here the running sum is the spec's and a host f32 replica of it
// predicts every bit of the result (tests/gpu/sample-blocks.test.ts).

const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> strips: array<f32>;        // (2, heads, nb): C then D
@group(0) @binding(1) var<storage, read> headParams: array<f32>;    // (heads, 4): alphaColumn, alphaSlash, |R|, unused
@group(0) @binding(2) var<storage, read_write> order: array<u32>;   // (2, heads, nb): indices in stage-2 order
@group(0) @binding(3) var<storage, read_write> kept: array<u32>;    // (2, heads, nb): 1 = kept
@group(0) @binding(4) var<storage, read_write> stats: array<u32>;   // (2, heads, 2): count, f32 bits of the estimate
struct Params { nb: u32, heads: u32, pad0: u32, pad1: u32 }
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> sCount: u32;

// Index u goes before index t in the order (u != t).
fn before(s: u32, u: u32, t: u32, pinned: u32) -> bool {
  if (u == pinned) { return true; }
  if (t == pinned) { return false; }
  let su = strips[s + u];
  let st = strips[s + t];
  return su > st || (su == st && u < t);
}

@compute @workgroup_size(WG)
fn select_strips(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let kind = wid.y;
  let nb = p.nb;
  let s = (kind * p.heads + h) * nb; // this (kind, head)'s first score
  var pinned = NONE;
  if (kind == 1u) { pinned = 0u; }
  for (var t = lid; t < nb; t += WG) {
    var rank = 0u;
    for (var u = 0u; u < nb; u++) {
      if (u != t && before(s, u, t, pinned)) { rank++; }
    }
    order[s + rank] = t;
  }
  storageBarrier();
  workgroupBarrier();
  if (lid == 0u) {
    let alpha = headParams[h * 4u + kind];
    let n = headParams[h * 4u + 2u];
    var total = 0.0;
    for (var r = 0u; r < nb; r++) { total += strips[s + order[s + r]]; }
    var first = 0u;
    if (pinned != NONE) { first = 1u; }
    var count = 0u;
    var kept_sum = 0.0;
    if (alpha == 1.0) {
      count = first;
      while (count < nb && strips[s + order[s + count]] > 0.0) { count++; }
    } else {
      let goal = alpha * total;
      var runSum = 0.0;
      count = 0u;
      loop {
        runSum += strips[s + order[s + count]];
        count++;
        if (runSum >= goal || count == nb) { break; }
      }
    }
    count = max(max(count, first), 1u);
    for (var r = 0u; r < count; r++) { kept_sum += strips[s + order[s + r]]; }
    stats[(kind * p.heads + h) * 2u] = count;
    stats[(kind * p.heads + h) * 2u + 1u] = bitcast<u32>(kept_sum / n);
    sCount = count;
  }
  let count = workgroupUniformLoad(&sCount);
  storageBarrier();
  for (var r = lid; r < nb; r += WG) { kept[s + order[s + r]] = select(0u, 1u, r < count); }
}
