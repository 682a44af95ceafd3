// Forward-pass kernels (gpu/model/) against their float64 references, on fresh random inputs of
// awkward sizes (not multiples of the 64 x 64 matmul tile or the 64-thread rows), with NaN-poisoned
// outputs so an element a kernel forgets fails. Tolerances: f32 arithmetic over K terms gives
// relative errors near sqrt(K) * 6e-8; 1e-5 relative (Frobenius) leaves a wide margin while a
// wrong index, bias or scale is off by orders of magnitude more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { createTensor, readTensor, uploadTensor } from '../../gpu/tensor';
import { Usage } from '../../gpu/flags';
import { matmulDispatch } from '../../gpu/model/matmul';
import { normDispatch } from '../../gpu/model/norm';
import { mergeHeadsDispatch, ropeTables, splitHeadsDispatch } from '../../gpu/model/heads';
import { activationDispatch, addDispatch, embedDispatch } from '../../gpu/model/elementwise';
import { probsDispatch } from '../../gpu/model/probs';
import { createDenseOutputs, flashDispatch } from '../../gpu/attention/flash';
import { attentionProbsRef, geluErfRef, geluTanhRef, matmulRef, normRef, siluMulRef, splitHeadsRef } from '../../src/reference/model-kernels';
import { assertFinite, freshSeed, gpu, maxAbsError, randn, relError, rng } from '../helpers/gpu';

test('matmul with and without bias matches float64 at awkward sizes', async () => {
  const ctx = await gpu();
  for (const [M, N, K, bias] of [[37, 70, 45, true], [1, 129, 16, false], [131, 3, 200, true]] as const) {
    const seed = freshSeed();
    const r = rng(seed);
    const x = randn(r, M * K), w = randn(r, N * K), b = randn(r, N);
    const tx = uploadTensor(ctx, 'x', [M, K], x), tw = uploadTensor(ctx, 'w', [N, K], w), tb = uploadTensor(ctx, 'b', [N], b);
    const y = createTensor(ctx, 'y', [M, N], true); // (M, N) f32, poisoned
    await run(ctx, [matmulDispatch(ctx, tx, tw, bias ? tb : undefined, y)]);
    const got = await readTensor(ctx, y);
    assertFinite(got, `matmul ${M}x${N}x${K} seed ${seed}`);
    const e = relError(got, matmulRef(x, w, bias ? b : undefined, M, N, K));
    assert.ok(e < 1e-5, `matmul ${M}x${N}x${K} bias ${bias} seed ${seed}: rel err ${e}`);
  }
});

test('matmul refuses mismatched shapes with a message naming the weight', async () => {
  const ctx = await gpu();
  const x = createTensor(ctx, 'x', [3, 5]), w = createTensor(ctx, 'layer.w', [4, 6]), y = createTensor(ctx, 'y', [3, 4]);
  assert.throws(() => matmulDispatch(ctx, x, w, undefined, y), /layer\.w.*K = 5/);
});

test('RMSNorm and LayerNorm match float64 (row length 77, not a multiple of 64 threads)', async () => {
  const ctx = await gpu();
  const seed = freshSeed();
  const r = rng(seed);
  const rows = 13, n = 77, eps = 1e-5;
  const x = randn(r, rows * n, 2), w = randn(r, n), b = randn(r, n);
  const tx = uploadTensor(ctx, 'x', [rows, n], x), tw = uploadTensor(ctx, 'w', [n], w), tb = uploadTensor(ctx, 'b', [n], b);
  for (const kind of ['rms', 'layer'] as const) {
    const y = createTensor(ctx, 'y', [rows, n], true); // (rows, n) f32, poisoned
    await run(ctx, [normDispatch(ctx, { kind, weight: tw, bias: kind === 'layer' ? tb : undefined, eps }, tx, y, rows)]);
    const got = await readTensor(ctx, y);
    const e = relError(got, normRef(kind, x, w, kind === 'layer' ? b : undefined, rows, n, eps));
    assert.ok(e < 1e-5, `${kind} seed ${seed}: rel err ${e}`);
  }
});

test('split heads with Qwen3 q-norm and llama3-scaled RoPE, then merge back, match float64', async () => {
  const ctx = await gpu();
  const seed = freshSeed();
  const r = rng(seed);
  const S = 29, H = 3, hd = 24;
  const rope = { theta: 500000, type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 };
  const x = randn(r, S * H * hd), nw = randn(r, hd);
  const tx = uploadTensor(ctx, 'x', [S, H * hd], x), tn = uploadTensor(ctx, 'norm', [hd], nw);
  const tables = ropeTables(ctx, rope, hd, S);
  const heads = createTensor(ctx, 'heads', [H, S, hd], true); // (H, S, hd) f32, poisoned
  const back = createTensor(ctx, 'back', [S, H * hd], true); // (S, H*hd) f32, poisoned
  await run(ctx, [splitHeadsDispatch(tx, heads, S, H, hd, { norm: { weight: tn, eps: 1e-6 }, rope: tables }), mergeHeadsDispatch(heads, back, S, H, hd)]);
  const got = await readTensor(ctx, heads);
  // Angles are float32 products as in transformers; the float64 reference uses exact angles, so
  // the difference grows with position * frequency: 1e-5 relative still separates real bugs.
  const e = relError(got, splitHeadsRef(x, S, H, hd, { normW: nw, eps: 1e-6, rope }));
  assert.ok(e < 1e-5, `split+norm+rope seed ${seed}: rel err ${e}`);
  const plain = createTensor(ctx, 'plain', [H, S, hd], true);
  await run(ctx, [splitHeadsDispatch(tx, plain, S, H, hd, {}), mergeHeadsDispatch(plain, back, S, H, hd)]);
  assert.deepEqual(Array.from(await readTensor(ctx, back)), Array.from(x), 'merge(split(x)) == x exactly');
});

test('embedding gather (+ learned positions), residual add and activations match float64', async () => {
  const ctx = await gpu();
  const seed = freshSeed();
  const r = rng(seed);
  const V = 11, E = 300, S = 9;
  const table = randn(r, V * E), pos = randn(r, S * E);
  const ids = Int32Array.from({ length: S }, () => Math.floor(r() * V));
  const idsBuf = ctx.device.createBuffer({ size: S * 4, usage: Usage.STORAGE | Usage.COPY_DST }); // (S) i32
  ctx.device.queue.writeBuffer(idsBuf, 0, ids);
  const tt = uploadTensor(ctx, 'table', [V, E], table), tp = uploadTensor(ctx, 'pos', [S, E], pos);
  const y = createTensor(ctx, 'y', [S, E], true); // (S, E) f32, poisoned
  await run(ctx, [embedDispatch(ctx, tt, idsBuf, S, y, tp)]);
  const got = await readTensor(ctx, y);
  for (let s = 0; s < S; s++) for (let c = 0; c < E; c++) assert.equal(got[s * E + c], Math.fround(table[ids[s] * E + c] + pos[s * E + c]), `embed seed ${seed} ${s},${c}`);

  const n = 1000;
  const a = randn(r, n, 3), b = randn(r, n, 3);
  const ta = uploadTensor(ctx, 'a', [n], a), tb = uploadTensor(ctx, 'b', [n], b);
  const out = createTensor(ctx, 'out', [n], true); // (n) f32, poisoned
  const cases: [string, () => ReturnType<typeof addDispatch>, (i: number) => number][] = [
    ['add', () => addDispatch(ctx, ta, tb, out), (i) => a[i] + b[i]],
    ['silu_mul', () => activationDispatch(ctx, 'silu_mul', ta, tb, out), (i) => siluMulRef(a[i], b[i])],
    ['gelu_tanh', () => activationDispatch(ctx, 'gelu_tanh', ta, undefined, out), (i) => geluTanhRef(a[i])],
    ['gelu_erf', () => activationDispatch(ctx, 'gelu_erf', ta, undefined, out), (i) => geluErfRef(a[i])],
  ];
  for (const [name, dispatch, ref] of cases) {
    await run(ctx, [dispatch()]);
    const v = await readTensor(ctx, out);
    // Pointwise: f32 exp/tanh carry a few ulp; the erf approximation is within 1.5e-7 absolute.
    const m = maxAbsError(v, Array.from({ length: n }, (_, i) => ref(i)));
    assert.ok(m < 2e-5 * 9, `${name} seed ${seed}: max abs err ${m}`);
  }
});

test('attention probability map (GQA) equals the float64 causal softmax, zeros above the diagonal', async () => {
  const ctx = await gpu();
  const seed = freshSeed();
  const r = rng(seed);
  const H = 4, KV = 2, S = 37, d = 24, scale = 1 / Math.sqrt(d);
  const q = randn(r, H * S * d), k = randn(r, KV * S * d), v = randn(r, KV * S * d);
  const tq = uploadTensor(ctx, 'q', [H, S, d], q), tk = uploadTensor(ctx, 'k', [KV, S, d], k), tv = uploadTensor(ctx, 'v', [KV, S, d], v);
  const dense = createDenseOutputs(ctx, { heads: H, kvHeads: KV, S, d });
  const P = createTensor(ctx, 'P', [H, S, S], true); // (H, S, S) f32, poisoned
  await run(ctx, [flashDispatch(ctx, { heads: H, kvHeads: KV, S, d }, tq, tk, tv, dense, scale), probsDispatch(tq, tk, dense.lse, P, scale)]);
  const got = await readTensor(ctx, P);
  assertFinite(got, `P seed ${seed}`);
  // Probabilities are at most 1: 1e-5 absolute is ~100 ulp of the largest entries.
  const m = maxAbsError(got, attentionProbsRef(q, k, H, KV, S, d, scale));
  assert.ok(m < 1e-5, `P seed ${seed}: max abs err ${m}`);
});
