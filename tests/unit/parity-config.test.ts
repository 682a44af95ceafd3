// The parity fixtures' config.json in both transformers key styles (made on the device by
// tools/parity/make_fixtures.py); their tokenizers are checked in tokenizer-parity.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/model/loader/model-config';
import { PARITY_DIR, PARITY_FIXTURES, readReference } from '../helpers/parity';

const json = (name: string, file: string) => JSON.parse(readFileSync(join(PARITY_DIR, name, file), 'utf8'));

test('there is a parity fixture for each of the six families', () => {
  assert.deepEqual(PARITY_FIXTURES, ['gpt2', 'llama2', 'llama3', 'mistral', 'qwen2', 'qwen3']);
});

for (const name of PARITY_FIXTURES) {
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
