// Tokenizers and configs of the parity fixtures against Hugging Face's own `tokenizers` and
// transformers (ids recorded on the device by tools/parity/make_fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../../src/model/loader/tokenizer/tokenizer';
import { parseModelConfig } from '../../src/model/loader/model-config';
import { PARITY_DIR, PARITY_FIXTURES, fixtureText, readReference } from '../helpers/parity';

const json = (name: string, file: string) => JSON.parse(readFileSync(join(PARITY_DIR, name, file), 'utf8'));

test('there is a parity fixture for each of the six families', () => {
  assert.deepEqual(PARITY_FIXTURES, ['gpt2', 'llama2', 'llama3', 'mistral', 'qwen2', 'qwen3']);
});

for (const name of PARITY_FIXTURES) {
  test(`${name}: token ids equal the HF tokenizers library's, and decode inverts them`, () => {
    const tok = loadTokenizer(json(name, 'tokenizer.json'));
    const ref = readReference(name);
    const text = fixtureText(name, 'tokenizer-text.txt');
    assert.deepEqual(tok.encode(text), Array.from(ref.tokIds));
    assert.deepEqual(tok.encode(fixtureText(name, 'text.txt')).slice(0, ref.inputIds.length), Array.from(ref.inputIds));
    const plain = tok.encode(text, { addSpecialTokens: false });
    // Both styles invert exactly here: byte-level BPE always, SentencePiece-style BPE because its
    // decoder strips the one leading space its normalizer prepended.
    assert.equal(tok.decode(plain), text);
  });

  test(`${name}: current (rope_parameters) and legacy (rope_theta/rope_scaling) config.json read the same`, () => {
    const a = parseModelConfig(json(name, 'config.json'), `${name}/config.json`);
    const b = parseModelConfig(json(name, 'config.legacy.json'), `${name}/config.legacy.json`);
    assert.deepEqual(a, b);
    const ref = readReference(name);
    assert.equal(a.vocabSize, ref.logitsShape[1]);
    assert.equal(a.numHeads, ref.attnShape[0]);
    assert.equal(a.numLayers, ref.attn.length);
  });
}
