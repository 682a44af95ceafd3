// A workgroup's tree reduction, shared by the kernels that reduce a row in one workgroup (the
// dense attention's probability pass, the decode step's attention, RMSNorm/LayerNorm): the host
// wrappers prepend this file to their own. WG, a power of two, is the including kernel's
// workgroup size (WGSL's module-scope declarations may come in any order).
var<workgroup> red: array<f32, WG>;

// Max (isMax) or sum of `v` over the workgroup; every invocation gets the result.
fn reduce(v: f32, lid: u32, isMax: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (isMax) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] += red[lid + s]; }
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
