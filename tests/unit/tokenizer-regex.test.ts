// Oniguruma -> JS regex rewriting and the Split behaviours, on hand-worked examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onigurumaRegExp, translateOniguruma } from '../../src/model/loader/tokenizer/oniguruma-regex';
import { GPT2_PATTERN, splitText } from '../../src/model/loader/tokenizer/pre-tokenizers';

const LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const isolated = (pattern: string, text: string) => splitText(text, onigurumaRegExp(pattern), 'Isolated');

test('case-insensitive groups become per-letter classes', () => {
  const re = onigurumaRegExp("(?i:'s|'ll)x");
  for (const s of ["'sx", "'Sx", "'LLx", "'lLx"]) assert.equal(s.match(re)?.[0], s, s);
  assert.equal("'SX".match(re), null, 'x outside the group stays case-sensitive');
  assert.equal(translateOniguruma('(?i:ab)c'), '(?:[aA][bB])c');
});

test('\\s is Oniguruma\'s: U+0085 is space, U+FEFF is not', () => {
  const re = onigurumaRegExp('\\s');
  assert.ok('\u0085'.match(re));
  assert.ok('\u00a0'.match(re));
  assert.equal('\ufeff'.match(re), null);
  assert.ok('\ufeff'.match(onigurumaRegExp('\\S')));
  assert.equal('x'.match(onigurumaRegExp('[\\s]')), null);
});

test('escapes JS u-mode rejects are rewritten; unsupported constructs are named', () => {
  assert.equal("a'b".match(onigurumaRegExp("\\'"))?.[0], "'");
  assert.equal('f9'.match(onigurumaRegExp('\\h+'))?.[0], 'f9');
  assert.equal('\u00e9'.match(onigurumaRegExp('\\x{e9}'))?.[0], '\u00e9');
  assert.ok('漢'.match(onigurumaRegExp('\\p{Han}')), 'script names map to Script=');
  assert.throws(() => onigurumaRegExp('a++'), /possessive quantifier/);
  assert.throws(() => onigurumaRegExp('(?>a)'), /atomic group/);
});

test('GPT-2 pattern pieces', () => {
  assert.deepEqual(isolated(GPT2_PATTERN, "Hello world's  x\n"), ['Hello', ' world', "'s", ' ', ' x', '\n']);
  assert.deepEqual(isolated(GPT2_PATTERN, 'a 123 !?'), ['a', ' 123', ' !?']);
});

test('Llama 3 and Qwen patterns: digits in threes vs one by one, newlines, non-breaking space', () => {
  assert.deepEqual(isolated(LLAMA3, '1234567'), ['123', '456', '7']);
  assert.deepEqual(isolated(QWEN, '1234'), ['1', '2', '3', '4']);
  assert.deepEqual(isolated(LLAMA3, "CAPS'LL and I'M"), ['CAPS', "'LL", ' and', ' I', "'M"]);
  assert.deepEqual(isolated(LLAMA3, 'a\n\n\nb'), ['a', '\n\n\n', 'b']);
  assert.deepEqual(isolated(LLAMA3, 'a  b'), ['a', ' ', ' b']);
  assert.deepEqual(isolated(LLAMA3, 'x\u00a0y'), ['x', '\u00a0y']);
  assert.deepEqual(isolated(LLAMA3, 'f(x):\n  y'), ['f', '(x', '):\n', ' ', ' y'], 'one optional non-letter may lead a word');
});

test('Split behaviours (and invert) on "a-b--c"', () => {
  const dash = /-/gu;
  assert.deepEqual(splitText('a-b--c', dash, 'Removed'), ['a', 'b', 'c']);
  assert.deepEqual(splitText('a-b--c', dash, 'Isolated'), ['a', '-', 'b', '-', '-', 'c']);
  assert.deepEqual(splitText('a-b--c', dash, 'MergedWithPrevious'), ['a-', 'b-', '-', 'c']);
  assert.deepEqual(splitText('a-b--c', dash, 'MergedWithNext'), ['a', '-b', '-', '-c']);
  assert.deepEqual(splitText('a-b--c', dash, 'Contiguous'), ['a', '-', 'b', '--', 'c']);
  // invert: each dash run is its own non-match, as in the library (runs are not joined).
  assert.deepEqual(splitText('a-b--c', dash, 'Removed', true), ['-', '-', '-']);
});
