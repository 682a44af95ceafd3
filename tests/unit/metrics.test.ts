import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, bitsPerByte, klDivergence, nextTokenNll } from '../../src/model/metrics';
import { freshSeed, randn, rng } from '../helpers/gpu';

test('nextTokenNll equals -log softmax of the next token (float64 check)', () => {
  const seed = freshSeed();
  const r = rng(seed);
  const S = 7, V = 13;
  const logits = randn(r, S * V, 3);
  const ids = Array.from({ length: S }, () => Math.floor(r() * V));
  const nll = nextTokenNll(logits, ids, V);
  assert.equal(nll.length, S - 1);
  for (let t = 0; t < S - 1; t++) {
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v]);
    const want = -Math.log(Math.exp(logits[t * V + ids[t + 1]]) / z);
    assert.ok(Math.abs(nll[t] - want) < 1e-9, `seed ${seed} t ${t}: ${nll[t]} vs ${want}`);
  }
});

test('nextTokenNll rejects ids outside the vocabulary and wrong sizes', () => {
  assert.throws(() => nextTokenNll(new Float32Array(6), [0, 5], 3), /outside the vocabulary/);
  assert.throws(() => nextTokenNll(new Float32Array(5), [0, 1], 3), /expected S \* vocab/);
});

test('KL is zero for equal rows, positive otherwise; argmax; bits per byte', () => {
  const p = Float32Array.from([1, 2, 3, 0.5]);
  const q = Float32Array.from([3, 2, 1, 0.5]);
  assert.ok(klDivergence(p, p, 0, 4) < 1e-12);
  assert.ok(klDivergence(p, q, 0, 4) > 0.1);
  assert.equal(argmax(p, 0, 4), 2);
  assert.equal(bitsPerByte(Math.LN2 * 10, 5), 2);
});
