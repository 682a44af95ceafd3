// MInference's per-head file (src/sampleattention/formats/minference-file.ts) and the conversion
// from a studio config (minference-convert.ts): round trip studio -> MInference -> parse, exact
// vertical sizes from a capture against the float64 reference's own selection, the density
// estimate where it is exact, and every malformed file a named error with the path at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSeed, randn, rng } from '../helpers/gpu';
import { InputError } from '../../gpu/errors';
import { buildConfig, measuresOf } from '../../src/sampleattention/formats/config-file';
import {
  MInferenceConfigError, minferenceHead, parseMInference, serializeMInference,
} from '../../src/sampleattention/formats/minference-file';
import { estimateVerticalSize, slashSizeOf, toMInference } from '../../src/sampleattention/formats/minference-convert';
import { density, DEFAULT_PARAMS, headView, kvHeadOf, selectHead } from '../../src/sampleattention/spec/reference';
import type { QkTensors } from '../../src/sampleattention/formats/qk-file';

const seed = freshSeed();

/** Two layers of 4 query heads on 2 kv heads, their per-head params and reference measures. */
function studio(S: number, d: number, s: number) {
  const r = rng(s);
  const heads = 4, kvHeads = 2, layers = 2;
  const caps: QkTensors[] = Array.from({ length: layers }, () => ({ q: randn(r, heads * S * d), k: randn(r, kvHeads * S * d), heads, kvHeads, S, d }));
  // Keys of some heads get a sink so the selections differ in size between heads.
  for (const c of caps) for (let t = 0; t < d; t++) c.k[t] *= 1 + 4 * r();
  const params = caps.map(() => Array.from({ length: heads }, () => ({ alpha: 0.6 + 0.39 * r(), rowRatio: 0.1 + 0.5 * r(), windowRatio: 0.3 * r() })));
  const sels = caps.map((c, l) => params[l].map((p, h) => selectHead(headView(c.q, h, S, d), headView(c.k, kvHeadOf(h, heads, kvHeads), S, d), S, d, p)));
  const cfg = buildConfig({ model: { name: 'tiny', family: 'llama', layers, heads, kvHeads, headDim: d }, text: { tokens: S }, defaults: DEFAULT_PARAMS, params, measured: sels.map((l) => l.map(measuresOf)) });
  return { cfg, caps, sels };
}

test(`studio config -> MInference -> parse: sizes, recall and pattern per head; exact vertical sizes with a capture (SEED=${seed})`, async () => {
  const S = 41, d = 8;
  const { cfg, caps, sels } = studio(S, d, seed);
  for (const withCapture of [false, true]) {
    const conv = await toMInference(cfg, 'cfg.json', withCapture ? (l) => caps[l] : undefined);
    assert.equal(conv.vertical, withCapture ? 'exact' : 'estimated');
    assert.equal(conv.S, S);
    assert.equal(conv.warning, null);
    const back = parseMInference(serializeMInference(conv.minference), 'mi.json');
    assert.equal(back.length, 2);
    cfg.layers.forEach((layer, l) => layer.heads.forEach((h, i) => {
      const e = minferenceHead(back, l, i, 'mi.json');
      const sel = sels[l][i];
      assert.equal(e.pattern, 'vertical_and_slash');
      // The window's diagonals: max(w, 1), the reference's own w.
      assert.equal(e.slashSize, Math.max(sel.window, 1), `layer ${l} head ${i}: slash_size`);
      assert.equal(e.score, h.measured!.recallMean, 'recall = measured recallMean');
      if (withCapture) assert.equal(e.verticalSize, sel.selectedKeys.length, `layer ${l} head ${i}: |I_KV|`);
      else assert.ok(e.verticalSize >= 0 && e.verticalSize <= S - e.slashSize, `estimate ${e.verticalSize} within the keys outside the window`);
    }));
  }
  // A capture of another length: the sizes follow the capture, and the verb is told.
  const short = caps.map((c) => ({ ...c, S: 20, q: c.q.subarray(0, c.heads * 20 * d), k: c.k.subarray(0, c.kvHeads * 20 * d) }));
  assert.match((await toMInference(cfg, 'cfg.json', (l) => short[l])).warning!, /capture has 20 tokens and the config was measured on 41/);
});

test('the density estimate of vertical_size is exact for keys placed symmetrically outside the window', () => {
  for (const [S, w] of [[50, 5], [33, 0], [64, 16], [7, 7]] as const) {
    const we = Math.max(w, 1), outside = Math.max(0, S - we);
    for (const pairs of [0, 1, 3, Math.floor(outside / 2)].filter((n) => 2 * n <= outside)) {
      const keys = new Uint8Array(S);
      for (let t = 0; t < pairs; t++) { keys[t * 2] = 1; keys[outside - 1 - t * 2] = 1; }
      const k = keys.reduce((a, x) => a + x, 0);
      const got = estimateVerticalSize(S, w / S, density(S, w, keys));
      assert.equal(got, k, `S ${S} w ${w}: ${k} keys estimated as ${got}`);
    }
  }
  // Keys inside the window add no density: invisible to the estimate.
  const inWindow = new Uint8Array(30); inWindow[29] = 1;
  assert.equal(estimateVerticalSize(30, 0.2, density(30, 6, inWindow)), 0);
  assert.equal(slashSizeOf(100, 0.07), 7, 'the spec\'s ceil with its integer snap');
  assert.equal(slashSizeOf(100, 0), 1, 'the diagonal survives w = 0');
});

test('a studio config without measures and without a capture cannot be converted: the path says which head', async () => {
  const { cfg } = studio(12, 4, seed + 1);
  delete (cfg.layers[1].heads[2] as { measured?: unknown }).measured;
  await assert.rejects(toMInference(cfg, 'cfg.json'), (e: unknown) => e instanceof InputError && /layers\[1\]\.heads\[2\]\.measured: missing.*--qk/.test((e as Error).message));
  // With the capture the reference supplies both the size and the recall.
  const { caps } = studio(12, 4, seed + 1);
  assert.ok((await toMInference(cfg, 'cfg.json', (l) => caps[l])).heads.every((h) => h.recall > 0));
});

test('MInference\'s own shapes parse: floats and old integer scores, stream_llm heads', () => {
  const cfg = parseMInference('[{"0": ["vertical_and_slash", 1000, 6096, 0.962], "1": ["stream_llm", 100, 800, 336]}, {"0": ["vertical_and_slash", 30, 800, 0]}]');
  assert.deepEqual(cfg[0].get(1), { pattern: 'stream_llm', verticalSize: 100, slashSize: 800, score: 336 });
  assert.equal(cfg[1].get(0)!.verticalSize, 30);
});

function rejects(text: string, path: string, re: RegExp) {
  assert.throws(() => parseMInference(text, 'mi.json'), (e: unknown) => {
    assert.ok(e instanceof MInferenceConfigError && e instanceof InputError, `${text}: ${(e as Error).name}`);
    assert.equal(e.name, 'MInferenceConfigError');
    assert.equal(e.file, 'mi.json');
    assert.equal(e.key, path, `${text}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

test('malformed MInference files: each a MInferenceConfigError naming the layer/head path', () => {
  rejects('[{"0": ["vertical_and_slash", 1, 2, 0.5]', 'config', /not valid JSON/);
  rejects('{"0": ["vertical_and_slash", 1, 2, 0.5]}', 'config', /an object is not a list/);
  rejects('[]', 'config', /empty/);
  rejects('[{"0": ["vertical_and_slash", 1, 2, 0.5]}, 7]', '[1]', /7 is not an object/);
  rejects('[{"0": ["vertical_and_slash", 1, 2]}]', '[0]["0"]', /has 3 entries; it needs 4/);
  rejects('[{"0": ["vertical_and_slash", 1, 2, 0.5]}, {"3": "dense"}]', '[1]["3"]', /"dense" is not a list/);
  rejects('[{"0": ["vertical_and_slash", 1, 2, 0.5], "5": ["vertical_and_slash", -4, 2, 0.5]}]', '[0]["5"][1]', /vertical_size -4 is not a non-negative integer/);
  rejects('[{"0": ["vertical_and_slash", 1, 2.5, 0.5]}]', '[0]["0"][2]', /slash_size 2.5/);
  rejects('[{"0": ["diagonal", 1, 2, 0.5]}]', '[0]["0"][0]', /pattern "diagonal" is not one of vertical_and_slash, stream_llm, block_sparse/);
  rejects('[{"0": ["vertical_and_slash", 1, 2, null]}]', '[0]["0"][3]', /score null/);
  rejects('[{"h0": ["vertical_and_slash", 1, 2, 0.5]}]', '[0]["h0"]', /not a head index/);
});

test('a file that does not cover a measured head, or a pattern without sizes, is refused by path', () => {
  const cfg = parseMInference('[{"0": ["vertical_and_slash", 1, 2, 0.5], "1": ["block_sparse", 10, 1, 0]}]');
  assert.throws(() => minferenceHead(cfg, 0, 2, 'mi.json'), (e: unknown) => e instanceof MInferenceConfigError && e.key === '[0]["2"]' && /heads 0, 1/.test(e.message));
  assert.throws(() => minferenceHead(cfg, 1, 0, 'mi.json'), (e: unknown) => e instanceof MInferenceConfigError && e.key === '[1]' && /1 layer/.test(e.message));
  assert.throws(() => minferenceHead(cfg, 0, 1, 'mi.json'), (e: unknown) => e instanceof MInferenceConfigError && e.key === '[0]["1"][0]' && /block_sparse/.test(e.message));
});
