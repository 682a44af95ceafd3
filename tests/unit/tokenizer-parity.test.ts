// Parity with the Hugging Face `tokenizers` library: ids it produced, compared to ours. Two
// drop-in forms are picked up automatically:
//  1. tests/fixtures/parity/<name>/ with tokenizer.json, tokenizer-text.txt and
//     reference.safetensors holding tok.ids (I32; encode(text) with special tokens) and input_ids
//     (the first ids of encode(text.txt)), as tools/parity/make_fixtures.py writes them;
//  2. tests/fixtures/tokenizers/<name>.cases.json: {"tokenizer": "<file in that folder>",
//     "cases": [{"text": ..., "ids": [...], "add_special_tokens": true|false, "decoded": "..."?}]}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { toInt32 } from '../../src/model/loader/dtypes';
import { entryToTensor, parseSafetensors } from '../../src/model/loader/safetensors-format';
import { loadTokenizer, type Tokenizer } from '../../src/model/loader/tokenizer/tokenizer';

const parityRoot = new URL('../fixtures/parity/', import.meta.url);
const tokRoot = new URL('../fixtures/tokenizers/', import.meta.url);
const readJson = (u: URL) => JSON.parse(readFileSync(u, 'utf8'));

function referenceIds(file: URL, name: string): number[] {
  const b = readFileSync(file);
  const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const h = parseSafetensors(bytes, file.pathname);
  const e = h.entries.find((x) => x.name === name);
  assert.ok(e, `${file.pathname} has no ${name}`);
  return Array.from(toInt32(entryToTensor(e, bytes.slice(h.dataStart + e.begin, h.dataStart + e.end), file.pathname)));
}

/** Equality with a message showing the first differing token, so a failure says where. */
function assertSameIds(tok: Tokenizer, got: number[], want: number[], what: string): void {
  let i = 0;
  while (i < Math.min(got.length, want.length) && got[i] === want[i]) i++;
  if (i === got.length && i === want.length) return;
  const show = (xs: number[]) => JSON.stringify(xs.slice(i, i + 6).map((x) => tok.idToToken(x)));
  assert.fail(`${what}: ids differ at ${i} (ours ${got.length}, reference ${want.length}): ours ${show(got)} vs reference ${show(want)}`);
}

const dirs = existsSync(parityRoot) ? readdirSync(parityRoot).filter((d) => existsSync(new URL(`${d}/tokenizer.json`, parityRoot))) : [];
test('parity fixtures are present', () => assert.ok(dirs.length > 0, `no tokenizer parity fixtures under ${parityRoot.pathname}`));

for (const d of dirs) {
  test(`parity ${d}: encode matches the tokenizers library`, () => {
    const tok = loadTokenizer(readJson(new URL(`${d}/tokenizer.json`, parityRoot)));
    const ref = new URL(`${d}/reference.safetensors`, parityRoot);
    const text = readFileSync(new URL(`${d}/tokenizer-text.txt`, parityRoot), 'utf8');
    assertSameIds(tok, tok.encode(text), referenceIds(ref, 'tok.ids'), `${d} tokenizer-text.txt`);
    const modelText = readFileSync(new URL(`${d}/text.txt`, parityRoot), 'utf8');
    const inputIds = referenceIds(ref, 'input_ids'); // a prefix: the reference keeps the first tokens only
    assertSameIds(tok, tok.encode(modelText).slice(0, inputIds.length), inputIds, `${d} text.txt`);
  });
}

const UNSUPPORTED_MODELS = ['WordPiece', 'Unigram', 'WordLevel'];
const caseFiles = existsSync(tokRoot) ? readdirSync(tokRoot).filter((f) => f.endsWith('.cases.json')) : [];
for (const f of caseFiles) {
  test(`parity cases ${f}`, () => {
    const spec = readJson(new URL(f, tokRoot)) as { tokenizer: string; cases: Array<{ text: string; ids: number[]; add_special_tokens?: boolean; decoded?: string }> };
    const json = readJson(new URL(spec.tokenizer, tokRoot));
    // Models we do not implement (their cases check @huggingface/tokenizers in
    // tokenizer-hf-compare.test.ts): ours must refuse them with the clear error.
    if (UNSUPPORTED_MODELS.includes(json.model?.type)) {
      assert.throws(() => loadTokenizer(json), new RegExp(`model type "${json.model.type}" is not supported`));
      return;
    }
    const tok = loadTokenizer(json);
    spec.cases.forEach((c, i) => {
      assertSameIds(tok, tok.encode(c.text, { addSpecialTokens: c.add_special_tokens !== false }), c.ids, `${f} case ${i}`);
      if (c.decoded !== undefined) assert.equal(tok.decode(c.ids), c.decoded, `${f} case ${i} decode`);
    });
  });
}
