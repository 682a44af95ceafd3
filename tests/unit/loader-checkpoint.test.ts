// Whole checkpoints: the parity fixture folders through nodeFolder and through browser File
// objects, and the errors for missing or broken files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { browserFiles, memoryFiles } from '../../src/model/loader/files';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { parseSafetensors } from '../../src/model/loader/safetensors-format';
import { writeSafetensors } from '../../src/model/loader/safetensors-format';

const root = fileURLToPath(new URL('../fixtures/parity/', import.meta.url));
const dirs = readdirSync(root);

for (const d of dirs) {
  test(`loadCheckpoint(nodeFolder): parity fixture ${d}`, async () => {
    const progress: number[] = [];
    const ck = await loadCheckpoint(nodeFolder(root + d), (done, total) => progress.push(done / total));
    assert.equal(ck.name, d);
    // Every tensor the file's header lists is loaded with its declared shape.
    const bytes = new Uint8Array(readFileSync(`${root}${d}/model.safetensors`));
    const header = parseSafetensors(bytes, d);
    assert.deepEqual(ck.weights.names(), header.entries.map((e) => e.name).sort());
    for (const e of header.entries) {
      const t = ck.weights.get(e.name);
      assert.deepEqual(t.shape, e.shape);
      assert.deepEqual(t.bytes, bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end), e.name);
    }
    assert.equal(progress[progress.length - 1], 1);
    assert.ok(ck.tokenizer.vocabSize <= ck.config.vocabSize);
    assert.ok(ck.tokenizer.encode('hello').length > 0);
  });
}

/** Node's File with the webkitRelativePath a folder pick sets. */
function pickedFile(path: string, data: Uint8Array | string): File {
  const f = new File([typeof data === 'string' ? data : new Uint8Array(data)], path.split('/').pop()!);
  Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
}

test('browserFiles: a picked folder loads like the Node folder; duplicate names are resolved or refused', async () => {
  const d = dirs[0];
  const files = readdirSync(root + d).map((n) => pickedFile(`${d}/${n}`, readFileSync(`${root}${d}/${n}`)));
  // A nested copy (like Llama's original/ folder) must not shadow the top-level files.
  files.push(pickedFile(`${d}/original/config.json`, '{"not": "this one"}'));
  const fromBrowser = await loadCheckpoint(browserFiles(files));
  const fromNode = await loadCheckpoint(nodeFolder(root + d));
  assert.equal(fromBrowser.name, d);
  assert.deepEqual(fromBrowser.config, fromNode.config);
  for (const n of fromNode.weights.names()) assert.deepEqual(fromBrowser.weights.get(n).bytes, fromNode.weights.get(n).bytes, n);
  const twoModels = [pickedFile('models/a/config.json', '{}'), pickedFile('models/b/config.json', '{}')];
  await assert.rejects(browserFiles(twoModels).read('config.json'), /models: 2 files are named config\.json \(models\/a\/config\.json, models\/b\/config\.json\)\. Pick the folder of one model only/);
});

test('loadCheckpoint errors name the file and what to do', async () => {
  const d = dirs[0];
  const real = Object.fromEntries(readdirSync(root + d).map((n) => [n, new Uint8Array(readFileSync(`${root}${d}/${n}`))]));
  const without = (name: string, extra: Record<string, Uint8Array | string> = {}) => {
    const { [name]: _drop, ...rest } = real;
    return memoryFiles('my-model', { ...rest, ...extra });
  };
  await assert.rejects(loadCheckpoint(without('config.json')), /my-model: config\.json is missing \(every Hugging Face checkpoint has one\)/);
  await assert.rejects(loadCheckpoint(without('config.json', { 'config.json': '{"model_type": "llama",' })), /my-model\/config\.json is not valid JSON/);
  await assert.rejects(loadCheckpoint(without('config.json', { 'config.json': '' })), /my-model\/config\.json is not valid JSON: .*The file is empty/);
  await assert.rejects(loadCheckpoint(without('tokenizer.json', { 'tokenizer.model': 'x' })), /tokenizer\.json is missing \(only a SentencePiece tokenizer\.model is present/);
  await assert.rejects(loadCheckpoint(without('tokenizer.json', { 'tokenizer.json': '{"model": {"type": "WordPiece"}}' })), /my-model\/tokenizer\.json: model type "WordPiece" is not supported/);
  await assert.rejects(loadCheckpoint(without('model.safetensors', { 'pytorch_model.bin': 'x' })), /no model\.safetensors or model\.safetensors\.index\.json; found reference\.safetensors/);
  const binOnly = memoryFiles('bin-model', { 'config.json': real['config.json'], 'tokenizer.json': real['tokenizer.json'], 'pytorch_model.bin': 'x' });
  await assert.rejects(loadCheckpoint(binOnly), /bin-model: no weights in safetensors format .*Found pytorch_model\.bin, which the studio cannot read: convert/);
  const st = real['model.safetensors'];
  await assert.rejects(loadCheckpoint(without('model.safetensors', { 'model.safetensors': st.slice(0, st.length - 100) })), /my-model\/model\.safetensors: tensor .* run past the end of the data/);
  await assert.rejects(loadCheckpoint(without('model.safetensors', { 'model.safetensors': 'version https://git-lfs.github.com/spec/v1\n' })), /my-model\/model\.safetensors is a Git LFS pointer, not the weights: run `git lfs pull`/);
  const small = JSON.stringify({ ...JSON.parse(new TextDecoder().decode(real['config.json'])), vocab_size: 10 });
  await assert.rejects(loadCheckpoint(without('config.json', { 'config.json': small })), /tokenizer\.json has ids up to \d+ but config\.json's vocab_size is 10/);
  assert.throws(() => nodeFolder('/nonexistent/model'), /Checkpoint folder \/nonexistent\/model does not exist/);
  const ok = await loadCheckpoint(without('model.safetensors', { 'model.safetensors': writeSafetensors([]) }));
  assert.deepEqual(ok.weights.names(), [], 'an empty weights file loads; missing tensors are the forward builder\'s to report');
});
