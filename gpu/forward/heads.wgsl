// Moves between the matmul layout (S, heads * hd) and the attention layout (heads, S, hd).
// `split` optionally applies RoPE on the way, in transformers' rotate_half convention: element d
// pairs with d + hd/2, and with c = cos(pos * inv_freq[i]), s = sin(...), i = d mod hd/2:
//   out[d]        = x[d] * c - x[d + hd/2] * s     (d < hd/2)
//   out[d]        = x[d] * c + x[d - hd/2] * s     (d >= hd/2)
// The cos/sin tables are computed on the host (rope.ts) for positions 0 .. S-1.

@group(0) @binding(0) var<storage, read> x: array<f32>;          // split: (S, heads, hd); merge: (heads, S, hd)
@group(0) @binding(1) var<storage, read_write> y: array<f32>;    // split: (heads, S, hd); merge: (S, heads, hd)
@group(0) @binding(2) var<storage, read> cosT: array<f32>;       // (S, hd/2), read only when rope = 1
@group(0) @binding(3) var<storage, read> sinT: array<f32>;       // (S, hd/2), read only when rope = 1
struct Params { S: u32, heads: u32, hd: u32, rope: u32 }
@group(0) @binding(4) var<uniform> p: Params;

fn flat(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return (wid.x + wid.y * nwg.x) * 256u + lid; }

@compute @workgroup_size(256)
fn split(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.S * p.heads * p.hd) { return; }
  // i indexes the output (h, s, d).
  let d = i % p.hd;
  let s = (i / p.hd) % p.S;
  let h = i / (p.hd * p.S);
  let src = (s * p.heads + h) * p.hd;
  var v = x[src + d];
  if (p.rope == 1u) {
    let half = p.hd / 2u;
    if (d < half) {
      let t = s * half + d;
      v = v * cosT[t] - x[src + d + half] * sinT[t];
    } else {
      let t = s * half + d - half;
      v = v * cosT[t] + x[src + d - half] * sinT[t];
    }
  }
  y[i] = v;
}

@compute @workgroup_size(256)
fn merge(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.S * p.heads * p.hd) { return; }
  // i indexes the output (s, h, d).
  let d = i % p.hd;
  let h = (i / p.hd) % p.heads;
  let s = i / (p.hd * p.heads);
  y[i] = x[(h * p.S + s) * p.hd + d];
  // Static uses keep the tables in merge's auto layout, so both entry points take the same bindings.
  _ = &cosT;
  _ = &sinT;
}
