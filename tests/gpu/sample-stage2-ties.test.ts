import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { readU32, uploadTensor, destroyAll } from '../../gpu/tensor';
import { createStage2, destroyStage2, stage2Dispatches } from '../../gpu/sample/stage2';
import { selectKeys } from '../../src/sampleattention/spec/reference';
import { freshSeed, gpu, rng } from '../helpers/gpu';

// Stage 2 alone on scores made of multiples of 1/8 (many exact ties) with dyadic alphas: every sum
// and alpha * total is then exact in f32 and float64 alike, so the GPU threshold search must pick
// exactly the keys of selectKeys (ties at the boundary by smaller index), with no tolerance.
interface Case { S: number; heads: number; levels: number; zeros: number; alpha: 'dyadic' | 1 | 'tiny' }
const cases: Case[] = [
  { S: 37, heads: 3, levels: 4, zeros: 0.2, alpha: 'dyadic' },
  { S: 600, heads: 2, levels: 16, zeros: 0.5, alpha: 'dyadic' },
  { S: 1000, heads: 2, levels: 2, zeros: 0.1, alpha: 'dyadic' }, // huge tie groups
  { S: 131, heads: 2, levels: 8, zeros: 0.3, alpha: 1 }, // alpha 1: exactly the positive keys
  { S: 77, heads: 2, levels: 3, zeros: 0.2, alpha: 'tiny' }, // single top key: smallest index of the maxima
  { S: 53, heads: 1, levels: 4, zeros: 1, alpha: 'dyadic' }, // all zero: key 0 alone
  // More keys than the threads hold in registers (256, 512 or 1024 threads x 32): the rest are read
  // from storage in every pass.
  { S: 33001, heads: 2, levels: 16, zeros: 0.3, alpha: 'dyadic' },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`stage 2 breaks exact ties like selectKeys: S ${c.S}, ${c.levels} levels, zeros ${c.zeros}, alpha ${c.alpha} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const r = rng(seed);
    const scores = new Float32Array(c.heads * c.S);
    for (let x = 0; x < scores.length; x++) scores[x] = r() < c.zeros ? 0 : (1 + Math.floor(r() * c.levels)) / 8;
    const alphas = Array.from({ length: c.heads }, () => (c.alpha === 1 ? 1 : c.alpha === 'tiny' ? 2 ** -20 : (1 + Math.floor(r() * 63)) / 64));
    const n = 4; // a power of two keeps the estimate (kept mass / n) exact
    const sc = uploadTensor(ctx, 'scores', [c.heads, c.S], scores); // (heads, S) f32
    const s2 = createStage2(ctx, c.heads, c.S, alphas, Array(c.heads).fill(n));
    await checked(ctx.device, 'stage 2', () => run(ctx, stage2Dispatches(ctx, c.heads, c.S, sc, s2)));
    const mask = await readU32(ctx, s2.mask.buffer, c.heads * c.S);
    const list = await readU32(ctx, s2.keyList.buffer, c.heads * c.S);
    const stats = await readU32(ctx, s2.stats.buffer, c.heads * 2);
    const statsF = new Float32Array(stats.buffer);
    for (let h = 0; h < c.heads; h++) {
      const ref = selectKeys(Float64Array.from(scores.subarray(h * c.S, (h + 1) * c.S)), alphas[h], n);
      const keys = Array.from(list.subarray(h * c.S, h * c.S + stats[2 * h]));
      assert.deepEqual(keys, ref.keys, `head ${h} alpha ${alphas[h]}: kept keys`);
      const fromMask = [];
      for (let j = 0; j < c.S; j++) if (mask[h * c.S + j] === 1) fromMask.push(j); else assert.equal(mask[h * c.S + j], 0);
      assert.deepEqual(fromMask, ref.keys, `head ${h}: mask`);
      assert.equal(statsF[2 * h + 1], ref.stage1Estimate, `head ${h}: stage-1 estimate (exact: dyadic sums)`);
    }
    destroyAll(sc);
    destroyStage2(s2);
  });
}
