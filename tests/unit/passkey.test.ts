import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHARS_PER_TOKEN, PASSKEY_INTRO, PASSKEY_QUESTION, STANDARD_FILLER, makePasskeyText, passkeyNeedle,
} from '../../src/texts/passkey';
import { freshSeed, rng } from '../helpers/gpu';

const count = (s: string, sub: string) => s.split(sub).length - 1;
const longestSentence = Math.max(...STANDARD_FILLER.map((s) => s.length + 1));

test('passkey text: template, needle once, requested length and depth (random sizes and depths)', () => {
  const seed = freshSeed();
  const r = rng(seed);
  for (let trial = 0; trial < 40; trial++) {
    const chars = 400 + Math.floor(r() * 40000);
    const depth = r();
    const passkey = 1 + Math.floor(r() * 999999);
    const filler = r() < 0.5 ? ('standard' as const) : ('shuffled' as const);
    const p = makePasskeyText({ chars, depth, passkey, seed: trial, filler });
    const where = `seed ${seed} trial ${trial} (chars ${chars}, depth ${depth.toFixed(3)}, ${filler})`;
    assert.ok(p.text.startsWith(PASSKEY_INTRO), where);
    assert.ok(p.text.endsWith(PASSKEY_QUESTION), where);
    assert.equal(p.passkey, String(passkey), where);
    assert.equal(p.answer, ` ${passkey}`, where);
    assert.equal(p.text.slice(p.needleStart, p.needleEnd), passkeyNeedle(String(passkey)), where);
    assert.equal(count(p.text, 'The pass key is'), 2, `${where}: needle once, plus the question`);
    // Whole filler sentences only: the text falls short of the target by less than one sentence.
    assert.ok(p.text.length <= chars && p.text.length > chars - longestSentence, `${where}: length ${p.text.length}`);
    // The needle sits at the sentence boundary nearest the depth: off by at most half a sentence.
    const fillerChars = p.text.length - PASSKEY_INTRO.length - (p.needleEnd - p.needleStart) - PASSKEY_QUESTION.length;
    const offset = p.needleStart - PASSKEY_INTRO.length;
    assert.ok(Math.abs(offset - depth * fillerChars) <= longestSentence / 2 + 1e-9, `${where}: needle at ${offset} of ${fillerChars}`);
    assert.ok(Math.abs(p.depth - offset / fillerChars) < 1e-12, where);
  }
});

test('passkey text: depth 0 and 1 put the needle right after the intro and right before the question', () => {
  const a = makePasskeyText({ chars: 5000, depth: 0, passkey: 71432 });
  assert.equal(a.needleStart, PASSKEY_INTRO.length);
  const b = makePasskeyText({ chars: 5000, depth: 1, passkey: '71432' });
  assert.equal(b.needleEnd, b.text.length - PASSKEY_QUESTION.length);
  assert.ok(b.text.includes('The pass key is 71432. Remember it. 71432 is the pass key. What is the pass key? The pass key is'));
});

test('passkey text: deterministic from the seed; the seed draws a 5-digit key when none is given', () => {
  const seed = freshSeed();
  const o = { tokensApprox: 1000, depth: 0.37, seed, filler: 'shuffled' as const };
  const a = makePasskeyText(o), b = makePasskeyText(o);
  assert.equal(a.text, b.text, `seed ${seed}`);
  assert.match(a.passkey, /^\d{5}$/, `seed ${seed}`);
  assert.ok(a.text.length <= 1000 * CHARS_PER_TOKEN, `seed ${seed}`);
  // Different seeds give different keys and filler orders (checked over several, not one pair,
  // since two seeds may share a key by chance: 1 in 90000).
  const keys = new Set(Array.from({ length: 8 }, (_, i) => makePasskeyText({ ...o, seed: seed + i + 1 }).passkey));
  assert.ok(keys.size >= 7, `seed ${seed}: keys ${[...keys]}`);
  const texts = new Set(Array.from({ length: 4 }, (_, i) => makePasskeyText({ ...o, passkey: 1, seed: seed + i + 1 }).text));
  assert.ok(texts.size >= 3, `seed ${seed}: shuffled filler should differ across seeds`);
  // The standard filler is the template's sentences in order, whatever the seed.
  const s1 = makePasskeyText({ chars: 3000, depth: 0.5, passkey: 1, seed: 1 });
  const s2 = makePasskeyText({ chars: 3000, depth: 0.5, passkey: 1, seed: 2 });
  assert.equal(s1.text, s2.text);
  assert.ok(s1.text.includes(STANDARD_FILLER.join(' ')));
});

test('passkey text: bad options fail with a message naming the option', () => {
  assert.throws(() => makePasskeyText({ depth: 0.5 }), /exactly one of tokensApprox/);
  assert.throws(() => makePasskeyText({ chars: 100, tokensApprox: 10, depth: 0.5 }), /exactly one of tokensApprox/);
  assert.throws(() => makePasskeyText({ chars: 5000, depth: 1.5 }), /depth 1.5/);
  assert.throws(() => makePasskeyText({ chars: 5000, depth: NaN }), /depth NaN/);
  assert.throws(() => makePasskeyText({ chars: 5000, depth: 0.5, passkey: '12a4' }), /digits only/);
  assert.throws(() => makePasskeyText({ chars: 5000, depth: 0.5, passkey: -3 }), /non-negative integer/);
  assert.throws(() => makePasskeyText({ chars: 50, depth: 0.5 }), /cannot hold the template/);
  assert.throws(() => makePasskeyText({ chars: -5, depth: 0.5 }), /positive number/);
});
