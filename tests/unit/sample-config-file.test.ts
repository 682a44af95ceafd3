// The per-head config file (src/sampleattention/formats/config-file.ts, config-schema.json): round trips, exact
// error paths for every kind of mistake, and the JSON Schema kept in step with the validator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  buildConfig, CONFIG_VERSIONS, configParams, configProblems, ConfigError, FAMILIES, headParams, parseConfig, serializeConfig, validateConfig,
  type SampleConfig,
} from '../../src/sampleattention/formats/config-file';
import { BLOCKS_PARAM_NAMES, DEFAULT_BLOCKS_PARAMS, MAX_BLOCK_SIZE } from '../../src/sampleattention/spec/blocks/params';
import type { HeadSetting } from '../../src/sampleattention/spec/setting';
import { selectHeadSetting } from '../../src/sampleattention/spec/setting-reference';
import { DEFAULT_PARAMS, PARAM_RANGES, selectHead } from '../../src/sampleattention/spec/reference';
import { freshSeed, randn, rng } from '../helpers/gpu';

function small(): SampleConfig {
  return buildConfig({
    model: { name: 'tiny', family: 'llama', layers: 3, heads: 6, kvHeads: 2, headDim: 8 },
    text: { tokens: 20, sha256: 'a'.repeat(64) },
    defaults: DEFAULT_PARAMS,
    params: Array.from({ length: 3 }, (_, l) => Array.from({ length: 6 }, (_, h) => ({ alpha: 0.9 + 0.01 * h, rowRatio: 0.05 * (l + 1), windowRatio: 0.1 }))),
  });
}

const clone = (c: SampleConfig): any => JSON.parse(JSON.stringify(c));

test('a config built from real head selections survives serialize -> parse unchanged', () => {
  const seed = freshSeed();
  const r = rng(seed);
  const S = 23, d = 8, layers = 2, heads = 4;
  const params = Array.from({ length: layers }, () => Array.from({ length: heads }, () => ({ alpha: 0.5 + 0.5 * r(), rowRatio: Math.max(1e-3, r()), windowRatio: r() })));
  const measured = params.map((layer) => layer.map((p) => selectHead(randn(r, S * d), randn(r, S * d), S, d, p)));
  const cfg = buildConfig({ model: { name: 'm', family: 'qwen3', layers, heads, kvHeads: 1, headDim: d }, text: { tokens: S }, defaults: DEFAULT_PARAMS, params, measured });
  const text = serializeConfig(cfg);
  assert.deepEqual(parseConfig(text), cfg, `seed ${seed}`);
  assert.deepEqual(headParams(cfg, 1, 3), { variant: 'tokens', ...params[1][3] });
  for (const layer of cfg.layers) for (const h of layer.heads) {
    assert.ok(h.measured!.recallMean <= 1 && h.measured!.recallMin >= 0, `seed ${seed}: recall clamped to [0, 1]`);
  }
  assert.equal(text.split('\n').filter((l) => l.includes('"alpha"') && l.includes('"measured"')).length, layers * heads, 'one head per line');
});

const seedRt = freshSeed();
test(`random valid configs round-trip and validate (fast-check seed ${seedRt})`, () => {
  const params = fc.record({
    alpha: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
    rowRatio: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
    windowRatio: fc.double({ min: 0, max: 1, noNaN: true }),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(...FAMILIES), fc.array(params, { minLength: 36, maxLength: 36 }), (layers, kv, group, family, ps) => {
      const heads = kv * group;
      const cfg = buildConfig({
        model: { name: 'x', family, layers, heads, kvHeads: kv, headDim: 4 },
        text: { tokens: 7 },
        defaults: ps[0],
        params: Array.from({ length: layers }, (_, l) => ps.slice(l * heads, (l + 1) * heads)),
      });
      assert.deepEqual(parseConfig(serializeConfig(cfg)), cfg);
    }),
    { seed: seedRt, numRuns: 100 },
  );
});

test('every mistake is reported with its exact path', () => {
  const cases: [string, (c: any) => void, string][] = [
    ['alpha too big', (c) => (c.layers[2].heads[5].alpha = 1.7), 'layers[2].heads[5].alpha: 1.7 is outside (0, 1]'],
    ['alpha zero', (c) => (c.layers[0].heads[0].alpha = 0), 'layers[0].heads[0].alpha: 0 is outside (0, 1]'],
    ['rowRatio string', (c) => (c.layers[1].heads[2].rowRatio = '0.1'), 'layers[1].heads[2].rowRatio: "0.1" is not a finite number (allowed: (0, 1])'],
    ['windowRatio negative', (c) => (c.defaults.tokens.windowRatio = -0.1), 'defaults.tokens.windowRatio: -0.1 is outside [0, 1]'],
    ['blocks default', (c) => (c.defaults.blocks.blockSize = 2.5), 'defaults.blocks.blockSize: 2.5 is not an integer in [1, 65536]'],
    ['missing windowRatio', (c) => delete c.layers[1].heads[0].windowRatio, 'layers[1].heads[0].windowRatio: missing'],
    ['typo', (c) => (c.layers[0].heads[1].alpah = 0.5), 'layers[0].heads[1].alpah: unknown field for variant tokens (expected one of variant, alpha, rowRatio, windowRatio, measured)'],
    ['wrong version', (c) => (c.version = 3), 'version: 3 is not a version this reader knows (expected 1 or 2)'],
    ['no variant', (c) => delete c.layers[2].heads[0].variant, 'layers[2].heads[0].variant: missing (one of tokens, blocks)'],
    ['bad variant', (c) => (c.layers[2].heads[0].variant = 'stripes'), 'layers[2].heads[0].variant: "stripes" is not one of tokens, blocks'],
    ['blockSize zero', (c) => (c.layers[1].heads[3] = { variant: 'blocks', blockSize: 0, alphaColumn: 0.9, alphaSlash: 0.9, rowRatio: 0.1 }), 'layers[1].heads[3].blockSize: 0 is not an integer in [1, 65536]'],
    ['tokens param on a blocks head', (c) => (c.layers[1].heads[3] = { variant: 'blocks', blockSize: 16, alphaColumn: 0.9, alphaSlash: 0.9, rowRatio: 0.1, windowRatio: 0.1 }), 'layers[1].heads[3].windowRatio: unknown field for variant blocks (expected one of variant, blockSize, alphaColumn, alphaSlash, rowRatio, measured)'],
    ['blocks param missing', (c) => (c.layers[1].heads[3] = { variant: 'blocks', blockSize: 16, alphaColumn: 0.9, rowRatio: 0.1 }), 'layers[1].heads[3].alphaSlash: missing'],
    ['family', (c) => (c.model.family = 'gpt4'), 'model.family: "gpt4" is not one of llama, mistral, qwen2, qwen3, gpt2'],
    ['heads vs kvHeads', (c) => (c.model.kvHeads = 4), 'model.kvHeads: heads (6) is not a multiple of kvHeads (4)'],
    ['too few layers', (c) => c.layers.pop(), 'layers: has 2 entries but model.layers is 3'],
    ['too many heads', (c) => c.layers[1].heads.push({ variant: 'tokens', ...DEFAULT_PARAMS }), 'layers[1].heads: has 7 entries but model.heads is 6'],
    ['tokens', (c) => (c.text.tokens = 2.5), 'text.tokens: 2.5 is not a positive integer'],
    ['sha', (c) => (c.text.sha256 = 'ABC'), 'text.sha256: "ABC" is not 64 lower-case hex digits'],
    ['measured recall', (c) => (c.layers[0].heads[3].measured = { recallMean: 1.2, recallMin: 0.5, recallP5: 0.6, density: 0.3 }), 'layers[0].heads[3].measured.recallMean: 1.2 is outside [0, 1]'],
    ['measured density', (c) => (c.layers[0].heads[3].measured = { recallMean: 1, recallMin: 1, recallP5: 1, density: 0 }), 'layers[0].heads[3].measured.density: 0 is outside (0, 1]'],
    ['measured missing', (c) => (c.layers[0].heads[3].measured = { recallMean: 1, recallMin: 1, recallP5: 1 }), 'layers[0].heads[3].measured.density: missing'],
    ['heads not array', (c) => (c.layers[2].heads = {}), 'layers[2].heads: {} is not an array'],
    ['model missing', (c) => delete c.model, 'model: missing'],
  ];
  for (const [what, mutate, expected] of cases) {
    const c = clone(small());
    mutate(c);
    assert.deepEqual(configProblems(c), [expected], what);
    assert.throws(() => validateConfig(c, 'my.json'), (e: unknown) => e instanceof ConfigError && e.message.startsWith('my.json is not a valid') && e.message.includes(expected), what);
  }
  assert.deepEqual(configProblems(small()), []);
  assert.deepEqual(configProblems([]), ['config: [] is not an object']);
  assert.throws(() => parseConfig('{"version": 2,', 'broken.json'), /broken\.json .*not valid JSON/s);
  // Several problems are all reported.
  const c = clone(small());
  c.layers[0].heads[0].alpha = 2;
  c.layers[1].heads[1].rowRatio = 0;
  assert.equal(configProblems(c).length, 2);
});

test('config-schema.json states the same ranges, fields and families as the validator', () => {
  const schema = JSON.parse(readFileSync(new URL('../../src/sampleattention/formats/config-schema.json', import.meta.url), 'utf8'));
  assert.deepEqual(schema.properties.version.enum, [...CONFIG_VERSIONS]);
  assert.deepEqual(schema.properties.model.properties.family.enum, [...FAMILIES]);
  for (const def of [schema.$defs.params, schema.$defs.tokensHead, schema.$defs.v1Head]) {
    for (const [name, r] of Object.entries(PARAM_RANGES)) {
      const p = def.properties[name];
      assert.equal(p.maximum, r.hi, name);
      assert.equal(r.lowOpen ? p.exclusiveMinimum : p.minimum, r.lo, name);
      assert.ok(def.required.includes(name), name);
    }
  }
  for (const def of [schema.$defs.blocksParams, schema.$defs.blocksHead]) {
    const b = def.properties.blockSize;
    assert.deepEqual([b.type, b.minimum, b.maximum], ['integer', 1, MAX_BLOCK_SIZE]);
    for (const name of BLOCKS_PARAM_NAMES) assert.ok(def.required.includes(name), name);
    for (const name of ['alphaColumn', 'alphaSlash', 'rowRatio']) assert.deepEqual([def.properties[name].exclusiveMinimum, def.properties[name].maximum], [0, 1], name);
  }
  assert.deepEqual(Object.keys(schema.$defs.tokensHead.properties).sort(), ['alpha', 'measured', 'rowRatio', 'variant', 'windowRatio']);
  assert.deepEqual(Object.keys(schema.$defs.blocksHead.properties).sort(), ['alphaColumn', 'alphaSlash', 'blockSize', 'measured', 'rowRatio', 'variant']);
  assert.deepEqual(Object.keys(schema.$defs.v1Head.properties).sort(), ['alpha', 'measured', 'rowRatio', 'windowRatio']);
  assert.deepEqual(schema.$defs.defaults.required.sort(), ['blocks', 'tokens']);
  assert.deepEqual(schema.$defs.measured.required.sort(), ['density', 'recallMean', 'recallMin', 'recallP5']);
  assert.deepEqual(schema.required.sort(), ['defaults', 'layers', 'model', 'text', 'version']);
});

const v1Text = (heads: unknown[]) => JSON.stringify({ version: 1, model: { name: 'old', family: 'llama', layers: 1, heads: heads.length, kvHeads: 1, headDim: 8 }, text: { tokens: 20 }, defaults: { alpha: 0.9, rowRatio: 0.05, windowRatio: 0.08 }, layers: [{ heads }] });

test('version 1 files still import (every head tokens) and are written back as version 2', () => {
  const m = { recallMean: 0.97, recallMin: 0.6, recallP5: 0.8, density: 0.3 };
  const cfg = parseConfig(v1Text([{ alpha: 0.9, rowRatio: 0.1, windowRatio: 0.2, measured: m }, { alpha: 0.8, rowRatio: 0.05, windowRatio: 0 }]), 'old.json');
  assert.equal(cfg.version, 2);
  assert.deepEqual(cfg.defaults, { tokens: { alpha: 0.9, rowRatio: 0.05, windowRatio: 0.08 }, blocks: DEFAULT_BLOCKS_PARAMS });
  assert.deepEqual(cfg.layers[0].heads, [{ variant: 'tokens', alpha: 0.9, rowRatio: 0.1, windowRatio: 0.2, measured: m }, { variant: 'tokens', alpha: 0.8, rowRatio: 0.05, windowRatio: 0 }]);
  const text = serializeConfig(cfg);
  assert.match(text, /"version": 2,/);
  assert.deepEqual(parseConfig(text), cfg);
  // Version 1's own rules stay: it has no variant field.
  assert.deepEqual(configProblems(JSON.parse(v1Text([{ variant: 'tokens', alpha: 0.9, rowRatio: 0.1, windowRatio: 0.2 }]))), ['layers[0].heads[0].variant: unknown field (expected one of alpha, rowRatio, windowRatio, measured)']);
  // The shipped tuned config of the default model is version 1 and imports as all-tokens version 2.
  const shipped = parseConfig(readFileSync(new URL('../../public/models/default/sampleattention-tuned.json', import.meta.url), 'utf8'), 'sampleattention-tuned.json');
  assert.equal(shipped.layers.length, shipped.model.layers);
  assert.ok(shipped.layers.every((l) => l.heads.length === shipped.model.heads && l.heads.every((h) => h.variant === 'tokens' && h.measured)));
  assert.deepEqual(parseConfig(serializeConfig(shipped)), shipped);
});

test('version 2: mixed tokens and blocks heads round-trip, one head per line with its variant first', () => {
  const seed = freshSeed();
  const r = rng(seed);
  const S = 29, d = 8;
  const params: HeadSetting[][] = [[
    { variant: 'tokens', alpha: 0.9, rowRatio: 0.1, windowRatio: 0.05 },
    { variant: 'blocks', blockSize: 16, alphaColumn: 0.85, alphaSlash: 0.9, rowRatio: 0.2 },
  ], [
    { variant: 'blocks', blockSize: 4, alphaColumn: 0.7, alphaSlash: 0.6, rowRatio: 1 },
    { variant: 'tokens', alpha: 1, rowRatio: 1, windowRatio: 1 },
  ]];
  const measured = params.map((layer) => layer.map((p) => selectHeadSetting(randn(r, S * d), randn(r, S * d), S, d, p)));
  const defaults = { tokens: DEFAULT_PARAMS, blocks: { ...DEFAULT_BLOCKS_PARAMS, blockSize: 32 } };
  const cfg = buildConfig({ model: { name: 'mix', family: 'qwen2', layers: 2, heads: 2, kvHeads: 1, headDim: d }, text: { tokens: S }, defaults, params, measured });
  const text = serializeConfig(cfg);
  assert.deepEqual(parseConfig(text), cfg, `seed ${seed}`);
  assert.deepEqual(cfg.defaults, defaults);
  assert.deepEqual(configParams(cfg), params);
  const lines = text.split('\n').filter((l) => l.includes('"measured"'));
  assert.equal(lines.length, 4, 'one head per line');
  assert.ok(lines.every((l) => /^\s*\{"variant":"(tokens|blocks)",/.test(l)), 'the variant comes first');
});
