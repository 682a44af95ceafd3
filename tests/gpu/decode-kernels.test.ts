// The decode step's kernels (gpu/decode) against float64 references. Attention (attend.ts): one query per
// head over the first n rows of a KV cache, on awkward sizes (n of 1, around the 256-key chunk,
// several chunks; head dims not multiples of the 64 threads; GQA groups of 1, 3 and 4). Cache rows
// past n and every output start NaN-poisoned, so a kernel that reads past n or forgets an element
// fails. Replay a failure with SEED=<seed from the test name>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checked } from '../../gpu/device';
import { run } from '../../gpu/kernel';
import { createTensor, destroyAll, readTensor, uploadTensor, uploadTensorF16 } from '../../gpu/tensor';
import { decodeAttentionDispatches, decodeScratch } from '../../gpu/decode/attend';
import { gemvDispatch } from '../../gpu/decode/gemv';
import { toF16 } from '../../gpu/tensorcore/half';
import { freshSeed, gpu, maxAbsError, randn, relError, rng } from '../helpers/gpu';

/** out (heads, hd) and lse (heads) in float64: softmax_j(scale q_h . k_j) over j < n. */
function reference(q: Float32Array, k: Float32Array, v: Float32Array, heads: number, kvHeads: number, cap: number, hd: number, n: number) {
  const out = new Float64Array(heads * hd), lse = new Float64Array(heads);
  const scale = 1 / Math.sqrt(hd);
  for (let h = 0; h < heads; h++) {
    const g = Math.floor(h / (heads / kvHeads));
    const s = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let d = 0; d < hd; d++) dot += q[h * hd + d] * k[(g * cap + j) * hd + d];
      s[j] = dot * scale;
    }
    const m = Math.max(...s);
    let l = 0;
    for (let j = 0; j < n; j++) l += Math.exp(s[j] - m);
    for (let j = 0; j < n; j++) {
      const p = Math.exp(s[j] - m) / l;
      for (let d = 0; d < hd; d++) out[h * hd + d] += p * v[(g * cap + j) * hd + d];
    }
    lse[h] = m + Math.log(l);
  }
  return { out, lse };
}

// f32 dots of hd <= 96 terms (~1e-7 relative each), exp and a sum over <= 700 keys, and the
// rescaling of <= 3 chunk partials: about 1e-6 relative on the output in Frobenius norm; 5e-6
// leaves margin while a wrong key, head or chunk (an O(1e-2) error or more) cannot pass.
// lse is O(5): 2e-5 absolute is a few ulps of its terms.
const OUT_TOL = 5e-6;
const LSE_TOL = 2e-5;
for (const [heads, kvHeads, hd, n, cap] of [
  [6, 2, 40, 1, 5], [4, 4, 33, 255, 260], [8, 2, 64, 257, 300], [3, 1, 96, 700, 701], [4, 1, 2, 513, 513],
] as [number, number, number, number, number][]) {
  const seed = freshSeed();
  test(`decode attention: ${heads} heads / ${kvHeads} kv, hd ${hd}, n ${n} of ${cap} cached rows (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const r = rng(seed);
    // q scaled up so the softmax is peaked and a misplaced key shows.
    const qh = randn(r, heads * hd).map((x) => 2 * x);
    const kh = randn(r, kvHeads * cap * hd), vh = randn(r, kvHeads * cap * hd);
    for (let g = 0; g < kvHeads; g++) for (let j = n; j < cap; j++) for (let d = 0; d < hd; d++) { kh[(g * cap + j) * hd + d] = NaN; vh[(g * cap + j) * hd + d] = NaN; }
    const q = uploadTensor(ctx, 'q', [heads, 1, hd], qh); // (heads, 1, hd) f32
    const k = uploadTensor(ctx, 'k cache', [kvHeads, cap, hd], kh); // (kvHeads, cap, hd) f32
    const v = uploadTensor(ctx, 'v cache', [kvHeads, cap, hd], vh); // (kvHeads, cap, hd) f32
    const scratch = decodeScratch(ctx, heads, cap, hd); // (heads, chunks, hd + 2) f32
    const out = createTensor(ctx, 'out', [heads, 1, hd], true); // (heads, 1, hd) f32
    const lse = createTensor(ctx, 'lse', [heads], true); // (heads) f32
    try {
      await checked(ctx.device, 'decode attention', () => run(ctx, decodeAttentionDispatches(ctx, { q, k, v, n, scratch, out, lse })));
      const want = reference(qh, kh, vh, heads, kvHeads, cap, hd, n);
      const eo = relError(await readTensor(ctx, out), want.out);
      const el = maxAbsError(await readTensor(ctx, lse), want.lse);
      assert.ok(eo <= OUT_TOL, `out: relative error ${eo} > ${OUT_TOL}`);
      assert.ok(el <= LSE_TOL, `lse: max abs error ${el} > ${LSE_TOL}`);
    } finally {
      destroyAll(q, k, v, scratch, out, lse);
    }
  });
}

test('decode attention refuses n past the cache and a short scratch, naming them', async () => {
  const ctx = await gpu();
  const q = createTensor(ctx, 'q', [4, 1, 8]);
  const k = createTensor(ctx, 'k cache', [2, 300, 8]);
  const scratch = decodeScratch(ctx, 4, 256, 8); // one chunk: too few for n = 257
  const out = createTensor(ctx, 'out', [4, 1, 8]);
  const lse = createTensor(ctx, 'lse', [4]);
  try {
    assert.throws(() => decodeAttentionDispatches(ctx, { q, k, v: k, n: 301, scratch, out, lse }), /n = 301 cached positions, but the cache holds 1 \.\. 300/);
    assert.throws(() => decodeAttentionDispatches(ctx, { q, k, v: k, n: 257, scratch, out, lse }), /scratch \(4, 1, 10\) must be at least \(4, 2, 10\)/);
  } finally {
    destroyAll(q, k, scratch, out, lse);
  }
});

// The one-row matmul (gpu/decode/gemv.ts) against float64: K not a multiple of the 32 lanes, N not
// a multiple of the 8 rows per workgroup, a row of x other than 0, with and without bias. f32
// weights: dots of K <= 301 N(0,1) terms, 2e-6 relative as for the tiled matmul. f16 weights (where
// the device has shader-f16): the reference uses the same f16-rounded weights, so only the f32
// sum's rounding remains and the same tolerance holds.
const GEMV_TOL = 2e-6;
/** The value of f16 bits (finite inputs only here). */
const halfValue = (h: number) => {
  const e = (h >> 10) & 31, m = h & 1023, sign = h & 0x8000 ? -1 : 1;
  return sign * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
};
for (const [N, K, row0, bias, dtype] of [
  [37, 45, 0, true, 'f32'], [1, 1, 0, false, 'f32'], [1030, 301, 2, true, 'f32'], [9, 64, 1, false, 'f32'], [37, 45, 1, true, 'f16'],
] as [number, number, number, boolean, 'f32' | 'f16'][]) {
  const seed = freshSeed();
  test(`gemv y = x[${row0}] W^T${bias ? ' + b' : ''}: N ${N}, K ${K}, ${dtype} weights (SEED=${seed})`, async (t) => {
    const ctx = await gpu();
    if (dtype === 'f16' && !ctx.hasF16) return t.skip('this adapter has no shader-f16');
    const r = rng(seed);
    const xh = randn(r, (row0 + 1) * K), bh = randn(r, N);
    let wh = randn(r, N * K);
    if (dtype === 'f16') wh = Float32Array.from(toF16(wh), halfValue);
    const x = uploadTensor(ctx, 'x', [row0 + 1, K], xh); // (row0 + 1, K) f32
    const w = dtype === 'f16' ? uploadTensorF16(ctx, 'w', [N, K], toF16(wh)) : uploadTensor(ctx, 'w', [N, K], wh); // (N, K) f32 | f16
    const b = bias ? uploadTensor(ctx, 'b', [N], bh) : undefined; // (N) f32
    const y = createTensor(ctx, 'y', [1, N], true); // (1, N) f32
    try {
      await checked(ctx.device, 'gemv', () => run(ctx, [gemvDispatch(ctx, { x, w, bias: b, y, xRow0: row0 })]));
      const want = new Float64Array(N);
      for (let n = 0; n < N; n++) {
        let acc = bias ? bh[n] : 0;
        for (let k = 0; k < K; k++) acc += xh[row0 * K + k] * wh[n * K + k];
        want[n] = acc;
      }
      const e = relError(await readTensor(ctx, y), want);
      assert.ok(e <= GEMV_TOL, `relative error ${e} > ${GEMV_TOL}`);
    } finally {
      destroyAll(x, w, b, y);
    }
  });
}
