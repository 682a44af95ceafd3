// Tokenizer behaviour on small hand-made tokenizer.json files (tests/fixtures/tokenizers/), with
// expected tokens worked out by hand from each file's merges:
//  bytelevel-split.json            Llama 3 style: Split regex + ByteLevel, ignore_merges, <|bos|> template
//  sentencepiece-bytefallback.json Llama 2 style: Prepend/Replace normalizer, byte fallback, unk
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadTokenizer, type Tokenizer } from '../../src/model/loader/tokenizer/tokenizer';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../fixtures/tokenizers/${name}`, import.meta.url), 'utf8'));
const variant = (base: Json, change: (j: Json) => void): Tokenizer => {
  const j = structuredClone(base);
  change(j);
  return loadTokenizer(j);
};
/** Ids of token strings, failing loudly on a typo in the test. */
const ids = (tok: Tokenizer, tokens: string[]) =>
  tokens.map((t) => {
    const id = tok.tokenToId(t);
    assert.notEqual(id, undefined, `test token ${JSON.stringify(t)} is not in the vocab`);
    return id!;
  });
const tokensOf = (tok: Tokenizer, text: string, addSpecialTokens = false) => tok.encode(text, { addSpecialTokens }).map((i) => tok.idToToken(i));

const byteLevel = fixture('bytelevel-split.json');
const spm = fixture('sentencepiece-bytefallback.json');

test('byte-level: merges apply lowest rank first, ignore_merges takes whole-word vocab entries', () => {
  const tok = loadTokenizer(byteLevel);
  const noIgnore = variant(byteLevel, (j) => (j.model.ignore_merges = false));
  assert.deepEqual(tokensOf(tok, 'the'), ['t', 'he']);
  assert.deepEqual(tokensOf(tok, ' the'), ['Ġthe']);
  assert.deepEqual(tokensOf(noIgnore, ' the'), ['Ġthe'], 'Ġ t h e -> Ġ t he -> Ġt he -> Ġthe');
  // " hello": (h,e) rank 0 and (l,l) rank 3 go before (Ġ,h) rank 5, which is then stale, so no
  // merge reaches Ġhello; ignore_merges finds "Ġhello" in the vocab directly.
  assert.deepEqual(tokensOf(noIgnore, ' hello'), ['Ġ', 'he', 'll', 'o']);
  assert.deepEqual(tokensOf(tok, ' hello'), ['Ġhello']);
  assert.deepEqual(tokensOf(noIgnore, ' world'), ['Ġ', 'w', 'o', 'r', 'l', 'd']);
  assert.deepEqual(tokensOf(tok, ' world'), ['Ġworld']);
});

test('byte-level: Split regex pieces (case-insensitive contractions, 3-digit numbers), bytes of non-ASCII', () => {
  const tok = loadTokenizer(byteLevel);
  // (?i:'s|...) must split "'S" off "x": without the case-insensitive rewrite "'Sx" is one piece,
  // where the merge (S, x) (rank 10, before (', S)) would give ["'", 'Sx'].
  assert.deepEqual(tokensOf(tok, "it'Sx"), ['i', 't', "'S", 'x']);
  assert.deepEqual(tokensOf(tok, "Sx"), ['Sx']);
  assert.deepEqual(tokensOf(tok, '1234567'), ['123', '4', '5', '6', '7']);
  assert.deepEqual(tokensOf(tok, 'é\n'), ['Ã', '©', 'Ċ'], 'UTF-8 C3 A9 0A as byte-level characters');
});

test('byte-level: added tokens are cut out first; the template adds <|bos|>', () => {
  const tok = loadTokenizer(byteLevel);
  assert.deepEqual(tok.encode('<|bos|>the<|eot|>', { addSpecialTokens: false }), ids(tok, ['<|bos|>', 't', 'he', '<|eot|>']));
  assert.deepEqual(tok.encode(' the'), ids(tok, ['<|bos|>', 'Ġthe']));
  assert.deepEqual(tok.encode(''), ids(tok, ['<|bos|>']));
  assert.equal(tok.decode(tok.encode(' the<|eot|>')), '<|bos|> the<|eot|>');
  assert.equal(tok.decode(tok.encode(' the<|eot|>'), { skipSpecialTokens: true }), ' the');
  assert.deepEqual([...tok.specialIds].sort(), ids(tok, ['<|bos|>', '<|eot|>']).sort());
  assert.equal(tok.vocabSize, Object.keys(byteLevel.model.vocab).length);
});

test('byte-level: decode of a split UTF-8 sequence gives U+FFFD, the whole sequence gives the character', () => {
  const tok = loadTokenizer(byteLevel);
  const e = tok.encode('é', { addSpecialTokens: false });
  assert.equal(e.length, 2);
  assert.equal(tok.decode([e[0]]), '\uFFFD');
  assert.equal(tok.decode(e), 'é');
});

test('sentencepiece style: ▁ prefix, merges over the whole text, byte fallback, <s> template', () => {
  const tok = loadTokenizer(spm);
  assert.deepEqual(tokensOf(tok, 'hello'), ['▁hello']);
  assert.deepEqual(tokensOf(tok, 'hello world'), ['▁hello', '▁', 'w', 'o', 'r', 'l', 'd']);
  assert.deepEqual(tokensOf(tok, ' hello'), ['▁', '▁hello']);
  assert.deepEqual(tokensOf(tok, 'hé'), ['▁h', '<0xC3>', '<0xA9>']);
  assert.deepEqual(tokensOf(tok, 'hello', true), ['<s>', '▁hello']);
  // Each stretch between added tokens is normalized on its own (so gets its own ▁).
  assert.deepEqual(tokensOf(tok, 'hello</s>hello'), ['▁hello', '</s>', '▁hello']);
});

test('sentencepiece style: decode replaces ▁, joins byte tokens, strips the prefix space', () => {
  const tok = loadTokenizer(spm);
  for (const s of ['hello world', ' hello', 'hé wörld 🙂', '']) assert.equal(tok.decode(tok.encode(s, { addSpecialTokens: false })), s);
  assert.equal(tok.decode(tok.encode('hello')), '<s> hello');
  assert.equal(tok.decode(tok.encode('hello'), { skipSpecialTokens: true }), 'hello');
  assert.equal(tok.decode(ids(tok, ['▁h', '<0xC3>'])), 'h\uFFFD', 'an incomplete byte sequence decodes to U+FFFD per byte');
});

test('sentencepiece style: unknown characters become <unk> without byte fallback, fused or not', () => {
  const fused = variant(spm, (j) => (j.model.byte_fallback = false));
  assert.deepEqual(tokensOf(fused, 'h€€o'), ['▁h', '<unk>', 'o']);
  const unfused = variant(spm, (j) => Object.assign(j.model, { byte_fallback: false, fuse_unk: false }));
  assert.deepEqual(tokensOf(unfused, 'h€€o'), ['▁h', '<unk>', '<unk>', 'o']);
});

test('Metaspace pre-tokenizer: prepend_scheme first/always, split on ▁, Metaspace decoder', () => {
  const meta = (scheme: string) =>
    variant(spm, (j) => {
      j.normalizer = null;
      j.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split: true };
      j.decoder = { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split: true };
    });
  const first = meta('first');
  assert.deepEqual(tokensOf(first, 'hello world'), ['▁hello', '▁', 'w', 'o', 'r', 'l', 'd']);
  // "first": no ▁ for text that follows an added token; "always": every stretch gets one.
  assert.deepEqual(tokensOf(first, '<s>hello'), ['<s>', 'h', 'e', 'llo']);
  assert.deepEqual(tokensOf(meta('always'), '<s>hello'), ['<s>', '▁hello']);
  assert.equal(first.decode(first.encode('hello world', { addSpecialTokens: false })), 'hello world');
});

test('post-processors: Roberta/Bert add cls and sep; Sequence chains; add_special_tokens=false skips them', () => {
  const roberta = variant(spm, (j) => (j.post_processor = { type: 'RobertaProcessing', cls: ['<s>', 1], sep: ['</s>', 2], trim_offsets: true, add_prefix_space: false }));
  assert.deepEqual(tokensOf(roberta, 'hello', true), ['<s>', '▁hello', '</s>']);
  assert.deepEqual(tokensOf(roberta, 'hello', false), ['▁hello']);
  const seq = variant(spm, (j) => (j.post_processor = { type: 'Sequence', processors: [{ type: 'ByteLevel' }, { type: 'BertProcessing', cls: ['<s>', 1], sep: ['</s>', 2] }] }));
  assert.deepEqual(tokensOf(seq, 'hello', true), ['<s>', '▁hello', '</s>']);
});

test('unsupported tokenizers and components fail with a clear error', () => {
  assert.throws(() => loadTokenizer({ model: { type: 'WordPiece', vocab: {} } }), /model type "WordPiece" is not supported \(supported: BPE/);
  assert.throws(() => loadTokenizer({ model: { type: 'Unigram', vocab: [] } }), /model type "Unigram" is not supported/);
  assert.throws(() => variant(spm, (j) => (j.normalizer = { type: 'Precompiled', precompiled_charsmap: '' })), /normalizer type "Precompiled" is not supported \(supported: Sequence, Prepend/);
  assert.throws(() => variant(spm, (j) => (j.pre_tokenizer = { type: 'BertPreTokenizer' })), /pre_tokenizer type "BertPreTokenizer" is not supported/);
  assert.throws(() => variant(spm, (j) => (j.post_processor = { type: 'Weird' })), /post_processor type "Weird" is not supported/);
  assert.throws(() => variant(spm, (j) => (j.decoder = { type: 'WordPiece', prefix: '##' })), /decoder type "WordPiece" is not supported/);
  assert.throws(() => variant(spm, (j) => j.model.merges.push(['q', 'z'])), /merge 6 \("q", "z"\) uses token "q", which is not in model\.vocab/);
  assert.throws(() => loadTokenizer('nope'), /tokenizer\.json must be a JSON object/);
});
