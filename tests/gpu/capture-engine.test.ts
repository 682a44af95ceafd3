// Issue 16, part 2 in the studio's engine: a capture file opened without the model runs the
// prefill's code paths. `sa-studio capture` writes the small llama3 fixture's q/k/v of 96 tokens;
// one engine opens that file (as a Blob, read through File.slice), another loads the model and
// runs the prefill on the same tokens. The capture holds the forward pass's own q/k/v, so select
// (every head's measures and thumbnails), the head view, the sweep, tune and rivals (with a
// MInference file) must give the very numbers of the prefill engine. A layer dropped from the GPU
// (a budget of one layer) is re-run when drawn; the model's checks refuse by name; a broken file
// is a QkFileError that leaves the open capture usable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpu } from '../helpers/gpu';
import { StudioEngine } from '../../src/engine/studio-engine';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { captureCommand } from '../../cli/capture';
import { DEFAULT_PARAMS, type SampleParams } from '../../src/sampleattention/spec/params';
import { parseMInference } from '../../src/sampleattention/formats/minference-file';
import { QkFileError } from '../../src/sampleattention/formats/qk-file';
import { InputError } from '../../gpu/errors';

const MODEL = join(process.cwd(), 'public/models/fixture-llama3');
const TEXT = join(process.cwd(), 'public/texts/prose-nodejs-pull-requests.md');
const S = 96;
const tmp = mkdtempSync(join(tmpdir(), 'sa-capture-engine-'));
const FILE = join(tmp, 'fixture.safetensors');
const GRID = { alpha: [0.9, 0.98], rowRatio: [0.1], windowRatio: [0, 0.08] };
const RULE = { targetRecall: 0.9 };
// Every head of both layers: vertical_and_slash with sizes below S, a little different per head.
const MI = parseMInference(JSON.stringify([0, 1].map(() => Object.fromEntries([0, 1, 2, 3].map((h) => [String(h), ['vertical_and_slash', 30 + 2 * h, 50, 0.9]])))), 'mi.json');

let model: StudioEngine, cap: StudioEngine;
let bytes: Uint8Array<ArrayBuffer>;
const noop = () => undefined;
const params = (p: Partial<SampleParams> = {}): SampleParams[][] => [0, 1].map(() => [0, 1, 2, 3].map(() => ({ ...DEFAULT_PARAMS, ...p })));

before(async () => {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    assert.equal(await captureCommand(['--model', MODEL, '--text', TEXT, '--max-tokens', String(S), '--out', FILE]), 0);
  } finally {
    process.stdout.write = write;
  }
  bytes = new Uint8Array(readFileSync(FILE));
  const ctx = await gpu();
  model = await StudioEngine.open(ctx);
  await model.loadModel(nodeFolder(MODEL), noop);
  const { ids } = model.tokenize(readFileSync(TEXT, 'utf8'), S);
  await model.prefill(ids, noop);
  cap = await StudioEngine.open(ctx);
});

after(() => {
  model?.dispose();
  cap?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

test('openCapture: the capture as a model and a prefill, with what it lacks said', async () => {
  const o = await cap.openCapture(new Blob([bytes]), 'fixture.safetensors');
  const c = o.model.capture!;
  assert.deepEqual([c.S, c.layers, c.heads, c.kvHeads, c.headDim, c.hasV, c.hasIds, c.hasText], [S, [0, 1], 4, 2, 16, true, true, true]);
  assert.equal(c.modelName, 'fixture-llama3');
  assert.deepEqual(c.identity, { name: 'fixture-llama3', family: 'llama', layers: 2, heads: 4, kvHeads: 2, headDim: 16 });
  assert.equal(o.model.config.numLayers, 2);
  assert.equal(o.prefill.S, S);
  assert.equal(o.prefill.tokens[0], `#${o.prefill.ids[0]}`);
  assert.equal(o.text, readFileSync(TEXT, 'utf8'));
  assert.equal(cap.layers, 2);
});

test('select, the head view and the sweep on the capture give the prefill engine\'s numbers', async () => {
  const p = params({ alpha: 0.9 });
  for (const l of [0, 1]) {
    const a = await model.selectLayer(l, p[l]), b = await cap.selectLayer(l, p[l]);
    assert.deepEqual(b.heads, a.heads, `layer ${l} heads`);
    assert.deepEqual(b.thumbs, a.thumbs, `layer ${l} thumbnails`);
  }
  const da = await model.headDetail(1, 3, 48), db = await cap.headDetail(1, 3, 48);
  assert.deepEqual(db, da);
  assert.deepEqual(await cap.measureHead(0, 2, { ...DEFAULT_PARAMS, alpha: 0.8 }), await model.measureHead(0, 2, { ...DEFAULT_PARAMS, alpha: 0.8 }));
});

test('the overview thumbnails do not depend on the settings: a slider move reuses them, as copies', async () => {
  // A fresh engine pools layer 1 first at other settings; cap pooled it at alpha 0.9 (above).
  const fresh = await StudioEngine.open(await gpu());
  try {
    await fresh.openCapture(new Blob([bytes]), 'fixture.safetensors');
    const other = await fresh.selectLayer(1, params({ alpha: 0.5, windowRatio: 0.2 })[1]);
    const moved = await cap.selectLayer(1, params({ alpha: 0.98 })[1]);
    assert.deepEqual(moved.thumbs, other.thumbs);
    assert.ok(moved.thumbs.every((t) => t.values.every(Number.isFinite)), 'finite thumbnails');
    moved.thumbs[0].values.fill(NaN); // what the worker transfers (detaches) or a caller edits
    assert.deepEqual((await cap.selectLayer(1, params({ alpha: 0.7 })[1])).thumbs, other.thumbs);
  } finally {
    fresh.dispose();
  }
});

test('tune and rivals (with a MInference file) on the capture give the prefill engine\'s reports', async () => {
  const ta = await model.tune(RULE, GRID, noop), tb = await cap.tune(RULE, GRID, noop);
  assert.deepEqual(tb, ta);
  const mi = { config: MI, source: 'mi.json' };
  const ra = await model.rivals(params(), null, 64, noop, undefined, mi), rb = await cap.rivals(params(), null, 64, noop, undefined, mi);
  const { seconds: _a, ...a } = ra, { seconds: _b, ...b } = rb;
  assert.deepEqual(b, a);
  assert.equal(rb.tokens, 64);
  assert.ok(rb.model_curves.some((c) => c.pattern === 'minference' && c.points.length === 1), 'the minference point');
});

test('a layer dropped from the GPU is re-run when drawn; the model\'s checks refuse; a broken file leaves the capture open', async () => {
  const p = params({ windowRatio: 0.04 });
  const one = await StudioEngine.open(await gpu());
  try {
    await one.openCapture(new Blob([bytes]), 'fixture.safetensors', 1); // a budget that holds one layer
    await one.selectLayer(0, p[0]);
    const d0 = await one.headDetail(0, 1, 32);
    await one.selectLayer(1, p[1]); // drops layer 0 and its run
    assert.deepEqual(await one.headDetail(0, 1, 32), d0);
    assert.deepEqual(await one.headDetail(1, 0, 32), await (async () => {
      await model.selectLayer(1, p[1]);
      return model.headDetail(1, 0, 32);
    })());
    await assert.rejects(one.check(p, null, noop), (e: Error) => e instanceof InputError && /near-lossless check runs the model.*holds only q, k, v/.test(e.message));
    await assert.rejects(one.openCapture(new Blob([bytes.subarray(0, bytes.length - 100)]), 'cut.safetensors'), (e: Error) => e instanceof QkFileError && /cut\.safetensors/.test(e.message));
    await assert.rejects(one.openCapture(new Blob([new Uint8Array(readFileSync(join(MODEL, 'model.safetensors')))]), 'model.safetensors'), (e: Error) => e instanceof QkFileError && /no tensor named q\.<layer>/.test(e.message));
    assert.deepEqual(await one.headDetail(0, 1, 32), d0, 'the open capture still draws');
  } finally {
    one.dispose();
  }
});
