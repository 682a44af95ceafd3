import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poolMax } from '../../src/engine/pool-cpu';
import { freshSeed, rng } from '../helpers/gpu';

test('poolMax takes the max of each block, causal part only, with a ragged last block', () => {
  const seed = freshSeed();
  const r = rng(seed);
  const S = 11, H = 2, bins = 4; // block = 3, last block holds 2 rows
  const p = new Float32Array(H * S * S).fill(NaN); // above-diagonal entries must never be read
  for (let h = 0; h < H; h++) for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) p[h * S * S + i * S + j] = r();
  const m = poolMax(p, 1, S, bins);
  assert.equal(m.block, 3);
  assert.equal(m.rows, 4);
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) {
    let want = 0;
    for (let i = a * 3; i < Math.min(S, a * 3 + 3); i++) for (let j = b * 3; j < Math.min(i + 1, b * 3 + 3); j++) want = Math.max(want, p[S * S + i * S + j]);
    assert.equal(m.values[a * 4 + b], want, `seed ${seed} cell ${a},${b}`);
  }
});
