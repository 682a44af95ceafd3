// Each forward-pass kernel against its float64 reference (src/reference/forward-ref.ts) on fresh
// random inputs of awkward sizes (not multiples of the 64-wide matmul tile, the 64-thread rows of
// the norms or the 256-thread element-wise groups). Outputs start NaN-poisoned so an element a
// kernel forgets fails. Replay a failure with SEED=<seed from the test name>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checked, type GpuContext } from '../../gpu/device';
import { run, type Dispatch } from '../../gpu/kernel';
import { createTensor, destroyAll, readTensor, uploadTensor, uploadU32, type Tensor } from '../../gpu/tensor';
import { matmulDispatch } from '../../gpu/forward/matmul';
import { normDispatch } from '../../gpu/forward/norm';
import { embeddingDispatch } from '../../gpu/forward/embedding';
import { mergeHeadsDispatch, splitHeadsDispatch } from '../../gpu/forward/heads';
import { uploadRopeTables } from '../../gpu/forward/rope';
import { attentionWithProbsDispatches } from '../../gpu/forward/attention';
import { addDispatch, geluDispatch, siluMulDispatch } from '../../gpu/forward/elementwise';
import { fillRandomDispatch } from '../../gpu/forward/fill';
import * as ref from '../../src/reference/forward-ref';
import type { RopeConfig } from '../../src/model/config';
import { assertFinite, freshSeed, gpu, maxAbsError, randn, relError, rng } from '../helpers/gpu';

async function exec(ctx: GpuContext, what: string, ds: Dispatch[]): Promise<void> {
  await checked(ctx.device, what, () => run(ctx, ds));
}
const poisoned = (ctx: GpuContext, label: string, shape: number[]) => createTensor(ctx, label, shape, true);

// Matmul: f32 dot products of K <= 131 terms of N(0,1) inputs carry a relative error of about
// sqrt(K) * 6e-8 ~ 1e-6 at worst per element and far less in Frobenius norm; 2e-6 leaves margin
// while a wrong index (an O(1) relative error) cannot pass.
const MATMUL_TOL = 2e-6;
for (const [M, N, K, bias, xRow0] of [
  [37, 131, 45, true, 0], [1, 1, 1, false, 0], [130, 70, 100, true, 0], [64, 64, 64, false, 0], [23, 200, 17, false, 5], [5, 3, 131, true, 2],
] as [number, number, number, boolean, number][]) {
  const seed = freshSeed();
  test(`matmul y = x W^T${bias ? ' + b' : ''}: M ${M}, N ${N}, K ${K}, x rows from ${xRow0} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const r = rng(seed);
    const xh = randn(r, (M + xRow0) * K), wh = randn(r, N * K), bh = randn(r, N);
    const x = uploadTensor(ctx, 'x', [M + xRow0, K], xh); // (M + xRow0, K) f32
    const w = uploadTensor(ctx, 'w', [N, K], wh); // (N, K) f32
    const b = bias ? uploadTensor(ctx, 'b', [N], bh) : undefined; // (N) f32
    const y = poisoned(ctx, 'y', [M, N]); // (M, N) f32
    await exec(ctx, 'matmul', [matmulDispatch(ctx, { x, w, bias: b, y, xRow0 })]);
    const got = await readTensor(ctx, y);
    const want = ref.matmulRef(xh.subarray(xRow0 * K), M, K, wh, N, bias ? bh : undefined);
    const e = relError(got, want);
    assert.ok(e <= MATMUL_TOL, `relative error ${e} > ${MATMUL_TOL}`);
    destroyAll(x, w, b, y);
  });
}

test('matmul rejects mismatched shapes, naming the tensors', async () => {
  const ctx = await gpu();
  const x = createTensor(ctx, 'x', [3, 5]);
  const w = createTensor(ctx, 'w', [4, 6]);
  const y = createTensor(ctx, 'y', [3, 4]);
  assert.throws(() => matmulDispatch(ctx, { x, w, y }), /x x \(3, 5\) has 5 columns but W w \(4, 6\) expects K = 6/);
  destroyAll(x, w, y);
});

// Norms: sums of n <= 131 squares and an rsqrt, each a few ulps: 1e-6 relative.
const NORM_TOL = 1e-6;
for (const [kind, rows, n, bias] of [['rms', 23, 40, false], ['rms', 7, 131, false], ['rms', 90, 10, false], ['layer', 23, 40, true], ['layer', 5, 131, true], ['layer', 3, 200, false]] as ['rms' | 'layer', number, number, boolean][]) {
  const seed = freshSeed();
  test(`${kind} norm: ${rows} rows of ${n}${bias ? ' with bias' : ''} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const r = rng(seed);
    // An offset of 3 makes LayerNorm's mean matter (a one-pass variance would lose digits).
    const xh = randn(r, rows * n).map((v) => v + 3), wh = randn(r, n), bh = randn(r, n);
    const eps = 1e-5;
    const x = uploadTensor(ctx, 'x', [rows, n], xh); // (rows, n) f32
    const w = uploadTensor(ctx, 'w', [n], wh); // (n) f32
    const b = bias ? uploadTensor(ctx, 'b', [n], bh) : undefined; // (n) f32
    const y = poisoned(ctx, 'y', [rows, n]); // (rows, n) f32
    await exec(ctx, 'norm', [normDispatch(ctx, { kind, x, weight: w, bias: b, eps, y })]);
    const got = await readTensor(ctx, y);
    const want = kind === 'rms' ? ref.rmsNormRef(xh, n, wh, eps) : ref.layerNormRef(xh, n, wh, bias ? bh : undefined, eps);
    const e = relError(got, want);
    assert.ok(e <= NORM_TOL, `relative error ${e} > ${NORM_TOL}`);
    destroyAll(x, w, b, y);
  });
}

for (const [withPos, pos0] of [[false, 0], [true, 0], [true, 3]] as [boolean, number][]) {
  const seed = freshSeed();
  test(`embedding gather${withPos ? ` + learned positions from ${pos0}` : ''}: S 37, vocab 53, n 45 (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const r = rng(seed);
    const S = 37, V = 53, n = 45;
    const ids = Int32Array.from({ length: S }, () => Math.floor(r() * V));
    const wteH = randn(r, V * n), wpeH = randn(r, (S + 4) * n);
    const wte = uploadTensor(ctx, 'wte', [V, n], wteH); // (vocab, n) f32
    const wpe = withPos ? uploadTensor(ctx, 'wpe', [S + 4, n], wpeH) : undefined; // (positions, n) f32
    const idsBuf = uploadU32(ctx, 'ids', ids); // (S) u32
    const y = poisoned(ctx, 'y', [S, n]); // (S, n) f32
    await exec(ctx, 'embedding', [embeddingDispatch(ctx, { ids: idsBuf, S, wte, wpe, pos0, y })]);
    const got = await readTensor(ctx, y);
    // pos0: the tokens sit at positions pos0 .. pos0 + S - 1 (a decode step after a cached prefix).
    const want = ref.embeddingRef(ids, wteH, n, withPos ? wpeH.subarray(pos0 * n) : undefined);
    // A gather is exact; the position add is one f32 rounding of the float64 sum.
    for (let i = 0; i < got.length; i++) assert.equal(got[i], Math.fround(want[i]), `element ${i}`);
    destroyAll(wte, wpe, idsBuf, y);
  });
}

// RoPE: the GPU rotates by transformers' float32 angles f32(pos * inv_freq), the reference by
// exact float64 ones; they differ by ~pos * |inv_freq| * 6e-8 rad (< 1e-5 at pos < 131), which on
// N(0,1) inputs is a relative error below 1e-5. A wrong pairing or sign is an O(1) error.
const ROPE_TOL = 1e-5;
const ropes: [string, RopeConfig][] = [
  ['default theta 10000', { theta: 10000, type: 'default' }],
  ['llama3 scaling', { theta: 500000, type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 }],
];
for (const [S, heads, hd] of [[37, 3, 24], [131, 2, 40], [1, 1, 2]]) {
  for (const [name, rope] of [['no rope', undefined], ...ropes] as [string, RopeConfig | undefined][]) {
    const seed = freshSeed();
    test(`split heads (${name}) and merge back: S ${S}, heads ${heads}, hd ${hd} (SEED=${seed})`, async () => {
      const ctx = await gpu();
      const xh = randn(rng(seed), S * heads * hd);
      const x = uploadTensor(ctx, 'x', [S, heads * hd], xh); // (S, heads * hd) f32
      const y = poisoned(ctx, 'y', [heads, S, hd]); // (heads, S, hd) f32
      const back = poisoned(ctx, 'back', [S, heads * hd]); // (S, heads * hd) f32
      const tables = rope ? uploadRopeTables(ctx, rope, hd, S) : undefined;
      await exec(ctx, 'split/merge heads', [splitHeadsDispatch(ctx, x, y, tables), mergeHeadsDispatch(ctx, y, back)]);
      const got = await readTensor(ctx, y);
      const want = ref.splitHeadsRef(xh, S, heads, hd, rope ? ref.ropeInvFreqRef(rope, hd) : undefined);
      const e = relError(got, want);
      assert.ok(rope ? e <= ROPE_TOL : e === 0, `relative error ${e} (tolerance ${rope ? ROPE_TOL : 0})`);
      const merged = await readTensor(ctx, back);
      assert.deepEqual(merged, Float32Array.from(ref.mergeHeadsRef(got, heads, S, hd)), 'merge is the exact inverse layout of split');
      destroyAll(x, y, back, tables?.cos, tables?.sin);
    });
  }
}

// Attention with its probability map: scores are dot products of hd <= 40 terms (relative error
// ~1e-7 of |score| <~ 10), so each probability is off by ~1e-6 relative at most; 2e-6 absolute on
// probabilities in [0, 1]. The output sums <= 131 such terms: 1e-5 relative (Frobenius).
const PROB_TOL = 2e-6;
const OUT_TOL = 1e-5;
for (const [heads, kvHeads, S, hd] of [[4, 2, 37, 24], [2, 1, 131, 40], [3, 3, 1, 10], [4, 1, 70, 6]]) {
  const seed = freshSeed();
  test(`attention with probabilities: heads ${heads}/${kvHeads}, S ${S}, hd ${hd} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const r = rng(seed);
    // Scaled so the maps are peaked in places and flat in others.
    const qh = randn(r, heads * S * hd, 1.5), kh = randn(r, kvHeads * S * hd), vh = randn(r, kvHeads * S * hd);
    const q = uploadTensor(ctx, 'q', [heads, S, hd], qh); // (heads, S, hd) f32
    const k = uploadTensor(ctx, 'k', [kvHeads, S, hd], kh); // (kvHeads, S, hd) f32
    const v = uploadTensor(ctx, 'v', [kvHeads, S, hd], vh); // (kvHeads, S, hd) f32
    const probs = poisoned(ctx, 'probs', [heads, S, S]); // (heads, S, S) f32
    const out = poisoned(ctx, 'out', [heads, S, hd]); // (heads, S, hd) f32
    await exec(ctx, 'attention', attentionWithProbsDispatches(ctx, { q, k, v, probs, out }));
    const want = ref.attentionRef(qh, kh, vh, heads, kvHeads, S, hd);
    const gotP = await readTensor(ctx, probs);
    const m = maxAbsError(gotP, want.probs);
    assert.ok(m <= PROB_TOL, `probabilities max abs error ${m} > ${PROB_TOL}`);
    for (let h = 0; h < heads; h++) for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) assert.equal(gotP[(h * S + i) * S + j], 0, `P[${h}, ${i}, ${j}] above the diagonal`);
    const e = relError(await readTensor(ctx, out), want.out);
    assert.ok(e <= OUT_TOL, `output relative error ${e} > ${OUT_TOL}`);
    destroyAll(q, k, v, probs, out);
  });
}

// Element-wise: silu and gelu_new through f32 exp (a few ulps), gelu through an erf approximation
// with 1.5e-7 absolute error: |error| <= 2e-6 * max(1, |x|) per element covers all three, while an
// activation mixed up with another (tanh vs erf GELU differ by up to ~5e-4) fails.
const ACT_TOL = 2e-6;
function activationInputs(seed: number, n: number): Float32Array {
  const x = randn(rng(seed), n, 3);
  // Edges: large magnitudes (exp overflow paths), exact zero and tiny values (series paths).
  const edges = [0, -0, 1e-8, -1e-8, 0.2, -0.3, 0.6, -40, 40, -100, 100, -1e4, 1e4, 15, -15];
  edges.forEach((v, i) => (x[i] = v));
  return x;
}
for (const [op, n] of [['silu_mul', 1001], ['gelu_new', 1001], ['gelu', 777], ['add', 300]] as const) {
  const seed = freshSeed();
  test(`element-wise ${op}: n ${n} with edge values (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const ah = activationInputs(seed, n);
    const bh = randn(rng(seed + 1), n);
    const a = uploadTensor(ctx, 'a', [n], ah); // (n) f32
    const b = uploadTensor(ctx, 'b', [n], bh); // (n) f32
    const d = op === 'silu_mul' ? siluMulDispatch(ctx, a, b) : op === 'add' ? addDispatch(ctx, a, b) : geluDispatch(ctx, a, op);
    await exec(ctx, op, [d]);
    const got = await readTensor(ctx, a);
    assertFinite(got, op);
    for (let i = 0; i < n; i++) {
      const x = ah[i];
      const want = op === 'silu_mul' ? ref.siluRef(x) * bh[i] : op === 'add' ? x + bh[i] : op === 'gelu' ? ref.geluErfRef(x) : ref.geluNewRef(x);
      const tol = op === 'add' ? 0 : ACT_TOL * Math.max(1, Math.abs(x) * (op === 'silu_mul' ? Math.abs(bh[i]) : 1));
      const err = op === 'add' ? Math.abs(got[i] - Math.fround(want)) : Math.abs(got[i] - want);
      assert.ok(err <= tol, `${op}(${x}${op === 'silu_mul' || op === 'add' ? `, ${bh[i]}` : ''}) = ${got[i]}, want ${want} (error ${err} > ${tol})`);
    }
    destroyAll(a, b);
  });
}

test('random fill (benchmark weights): values in range with the asked mean and std', async () => {
  const ctx = await gpu();
  const n = 10007, mean = 1, sd = 0.1;
  const t = poisoned(ctx, 'fill', [n]); // (n) f32
  await exec(ctx, 'fill', [fillRandomDispatch(ctx, t, freshSeed(), sd, mean)]);
  const got = await readTensor(ctx, t);
  assertFinite(got, 'fill');
  let s = 0, s2 = 0;
  for (const v of got) {
    assert.ok(Math.abs(v - mean) <= Math.sqrt(3) * sd * (1 + 1e-6), `value ${v} outside the uniform range`);
    s += v; s2 += (v - mean) ** 2;
  }
  // Sample mean within 6 standard errors (sd / sqrt(n) = 1e-3); sample std within 5%.
  assert.ok(Math.abs(s / n - mean) < 6e-3, `mean ${s / n}`);
  assert.ok(Math.abs(Math.sqrt(s2 / n) - sd) < 0.05 * sd, `std ${Math.sqrt(s2 / n)}`);
  destroyAll(t);
});
