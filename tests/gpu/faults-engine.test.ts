// The studio's engine (StudioEngine, on Node's Dawn) facing bad input, issue 17 items 1 and 7:
// a checkpoint that fails validation (a NaN weight, a config.json without a required key) is
// refused with its named error and leaves the open model, its prefill and runs as they were
// (the studio keeps the last good model usable); a text past the model's positions is a LimitError
// before any work. The small llama3 fixture (2 layers x 4 heads) and 24 tokens: seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioEngine } from '../../src/engine/studio-engine';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { DEFAULT_PARAMS } from '../../src/sampleattention/spec/params';
import { CheckpointError, LimitError, NonFiniteWeightError } from '../../gpu/errors';
import { gpu } from '../helpers/gpu';

const FIXTURE = join(process.cwd(), 'public', 'models', 'fixture-llama3');
const TEXT = readFileSync(join(process.cwd(), 'public', 'texts', 'code-python-fractions.py'), 'utf8');

/** A copy of the fixture with `edit` applied to its files. */
function variant(name: string, edit: (files: Record<string, Buffer>) => void): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'sa-engine-faults-')), name);
  mkdirSync(dir);
  const files: Record<string, Buffer> = {};
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) files[f] = readFileSync(join(FIXTURE, f));
  edit(files);
  for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
  return dir;
}

/** Writes NaN into the first element of tensor `name` of a safetensors file (F32 data). */
function poison(st: Buffer, name: string): void {
  const n = Number(st.readBigUInt64LE(0));
  const header = JSON.parse(st.subarray(8, 8 + n).toString('utf8'));
  assert.equal(header[name].dtype, 'F32');
  st.writeFloatLE(NaN, 8 + n + header[name].data_offsets[0]);
}

test('a refused checkpoint leaves the open model, prefill and runs usable; a text past the context is named first', async () => {
  const engine = await StudioEngine.open(await gpu());
  try {
    await engine.loadModel(nodeFolder(FIXTURE), () => undefined);
    const { ids } = engine.tokenize(TEXT, 24);
    await engine.prefill(ids, () => undefined);
    const params = Array.from({ length: 4 }, () => ({ ...DEFAULT_PARAMS }));
    const before = await engine.selectLayer(1, params);

    const nan = variant('nan-weight', (f) => poison(f['model.safetensors'], 'model.layers.1.self_attn.k_proj.weight'));
    await assert.rejects(engine.loadModel(nodeFolder(nan), () => undefined), (e) => e instanceof NonFiniteWeightError && e.tensor === 'model.layers.1.self_attn.k_proj.weight' && /NaN/.test(e.message));
    const noKey = variant('no-heads', (f) => {
      const c = JSON.parse(f['config.json'].toString('utf8'));
      delete c.num_attention_heads;
      f['config.json'] = Buffer.from(JSON.stringify(c));
    });
    await assert.rejects(engine.loadModel(nodeFolder(noKey), () => undefined), (e) => e instanceof CheckpointError && /config\.json/.test(e.message) && /num_attention_heads/.test(e.message));

    // The old model is still open: its captured layers, and a selection giving the same result.
    assert.equal(engine.layers, 2);
    const after = await engine.selectLayer(1, params);
    assert.deepEqual(after.heads.map((h) => [h.density, h.recallMean]), before.heads.map((h) => [h.density, h.recallMean]));
    const detail = await engine.headDetail(1, 2, 24);
    assert.equal(detail.scores.length, 24);

    // 300 tokens asked of a 256-position model: a LimitError naming both, before any GPU work.
    assert.throws(() => engine.tokenize(TEXT, 300, 'fractions.py'), (e) => e instanceof LimitError && e.need === 300 && e.limit === 256 && e.file === 'fractions.py' && /more than the model's 256 positions/.test(e.message));
    assert.equal(engine.tokenize(TEXT, 256).ids.length, 256);
  } finally {
    engine.dispose();
  }
});
