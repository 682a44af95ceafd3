// The studio's per-head settings (src/state/settings.ts, selectors.ts, persist.ts, params.ts):
// either variant in the defaults and the overrides, a state saved before the variants loading as
// tokens, and the variant switch keeping what overridden heads ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, type HeadSetting } from '../../src/sampleattention/spec/setting';
import { DEFAULT_PARAMS } from '../../src/sampleattention/spec/params';
import { allParams, layerParams, overridesFrom, paramsFor } from '../../src/state/selectors';
import { applyOverride, blockSizeFor, cleanOverride, overrideFor } from '../../src/state/settings';
import { loadSaved, save } from '../../src/state/persist';
import { setParam, setVariant } from '../../src/state/params';
import { useStudio, type StudioState } from '../../src/state/store';

// A Map-backed localStorage for persist.ts (Node has none).
const store = new Map<string, string>();
(globalThis as { localStorage?: unknown }).localStorage = {
  getItem: (k: string) => store.get(k) ?? null,
  setItem: (k: string, v: string) => void store.set(k, v),
  removeItem: (k: string) => void store.delete(k),
};

const tokens = DEFAULT_SETTINGS.tokens;
const blocks64: HeadSetting = { variant: 'blocks', blockSize: 64, alphaColumn: 0.9, alphaSlash: 0.8, rowRatio: 0.1 };

test('layerParams: a blocks override on tokens defaults stands on the blocks spec defaults; others stay tokens', () => {
  const s = { defaults: { ...tokens, alpha: 0.9 }, overrides: { '1:2': { variant: 'blocks' as const, alphaColumn: 0.7 }, '1:0': { windowRatio: 0.2 } } };
  const l1 = layerParams(s, 1, 3);
  assert.deepEqual(l1[0], { ...tokens, alpha: 0.9, windowRatio: 0.2 });
  assert.deepEqual(l1[1], { ...tokens, alpha: 0.9 });
  assert.deepEqual(l1[2], { ...DEFAULT_SETTINGS.blocks, alphaColumn: 0.7 });
  // A tokens field on a blocks head is not the head's: the blocks setting has exactly its fields.
  assert.deepEqual(paramsFor({ defaults: tokens, overrides: { '0:0': { variant: 'blocks', alpha: 0.6 } } }, 0, 0), DEFAULT_SETTINGS.blocks);
  // Blocks defaults, one tokens head.
  const b = { defaults: blocks64, overrides: { '0:1': { variant: 'tokens' as const, alpha: 0.8 } } };
  assert.deepEqual(layerParams(b, 0, 2), [blocks64, { ...tokens, alpha: 0.8 }]);
});

test('overridesFrom gives back every head\'s setting (both variants) and stays empty for the defaults', () => {
  const params: HeadSetting[][] = [[tokens, blocks64], [{ ...tokens, rowRatio: 0.2 }, DEFAULT_SETTINGS.blocks]];
  for (const defaults of [tokens, blocks64] as HeadSetting[]) {
    const o = overridesFrom(params, defaults);
    assert.deepEqual(allParams({ defaults, overrides: o }, 2, 2), params);
  }
  const o = overridesFrom(params, tokens);
  assert.equal(o['0:0'], undefined);
  assert.deepEqual(o['1:0'], { rowRatio: 0.2 });
  // Another variant than the defaults': the variant and all of its fields (not only the spec's differences).
  assert.deepEqual(o['1:1'], { ...DEFAULT_SETTINGS.blocks });
  assert.deepEqual(overrideFor(blocks64, blocks64), {});
  assert.deepEqual(applyOverride(blocks64, undefined), blocks64);
});

test('persist: a state saved before the variants (SampleParams) loads as tokens; blocks settings round-trip; bad fields are dropped', () => {
  store.set('sa-studio:v1', JSON.stringify({ defaults: { alpha: 0.9, rowRatio: 0.05, windowRatio: 0.08 }, overrides: { '0:1': { alpha: 0.7, bogus: 3, rowRatio: 7 }, 'x': { alpha: 0.5 } } }));
  const old = loadSaved();
  assert.deepEqual(old.defaults, { variant: 'tokens', alpha: 0.9, rowRatio: 0.05, windowRatio: 0.08 });
  assert.deepEqual(old.overrides, { '0:1': { alpha: 0.7 } });
  // An invalid saved default is not loaded (the store keeps its own).
  store.set('sa-studio:v1', JSON.stringify({ defaults: { variant: 'blocks', blockSize: 0, alphaColumn: 0.9, alphaSlash: 0.9, rowRatio: 0.05 } }));
  assert.equal(loadSaved().defaults, undefined);
  const s = { ...useStudio.getState(), defaults: blocks64, overrides: { '2:3': { variant: 'tokens', alpha: 0.6 } } } as StudioState;
  save(s);
  const back = loadSaved();
  assert.deepEqual(back.defaults, blocks64);
  assert.deepEqual(back.overrides, { '2:3': { variant: 'tokens', alpha: 0.6 } });
  assert.deepEqual(cleanOverride({ variant: 'other', blockSize: 32.5, alphaSlash: 0.4 }), { alphaSlash: 0.4 });
});

test('setVariant / setParam: the chosen head switches to blocks as an override; switching every head keeps overridden heads as they ran', () => {
  const S = 40;
  useStudio.setState({ defaults: { ...tokens }, overrides: { '0:0': { alpha: 0.7 } }, chosen: { layer: 0, head: 1 }, prefill: { ids: new Int32Array(S), tokens: [], S, ms: 0 } });
  setVariant('head', 'blocks');
  // S = 40: the default block 128 is more than the text, the largest choice <= S is 32.
  assert.deepEqual(paramsFor(useStudio.getState(), 0, 1), { ...DEFAULT_SETTINGS.blocks, blockSize: 32 });
  setParam('head', 'alphaColumn', 0.8);
  assert.equal(useStudio.getState().overrides['0:1'].alphaColumn, 0.8);
  setParam('head', 'alphaColumn', 1.5); // out of range: ignored
  assert.equal(useStudio.getState().overrides['0:1'].alphaColumn, 0.8);
  setVariant('all', 'blocks');
  const st = useStudio.getState();
  assert.equal(st.defaults.variant, 'blocks');
  assert.deepEqual(paramsFor(st, 0, 0), { ...tokens, alpha: 0.7 }, 'an overridden tokens head stays as it was');
  assert.deepEqual(paramsFor(st, 0, 1), { ...DEFAULT_SETTINGS.blocks, blockSize: 32, alphaColumn: 0.8 });
  assert.deepEqual(paramsFor(st, 3, 3), { ...DEFAULT_SETTINGS.blocks, blockSize: 32 }, 'a plain head takes the new defaults');
  // Back to the defaults' variant: the head's override is gone.
  useStudio.setState({ chosen: { layer: 0, head: 0 } });
  setVariant('head', 'blocks');
  assert.equal(useStudio.getState().overrides['0:0'], undefined);
  assert.equal(blockSizeFor(8, 128), 16);
  assert.equal(blockSizeFor(1000, 64), 64);
  assert.deepEqual(DEFAULT_PARAMS, { alpha: tokens.alpha, rowRatio: tokens.rowRatio, windowRatio: tokens.windowRatio });
});

test('config import: blocks heads become the studio\'s (no refusal); export writes them back with both defaults', async () => {
  const { buildConfig, serializeConfig } = await import('../../src/sampleattention/formats/config-file');
  const { importConfig, currentConfig } = await import('../../src/state/config-io');
  const config = { family: 'llama', numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 8 } as const;
  const model = { name: 'm', family: 'llama' as const, layers: 1, heads: 2, kvHeads: 1, headDim: 8 };
  const text = serializeConfig(buildConfig({ model, text: { tokens: 40 }, defaults: { tokens: { ...DEFAULT_PARAMS, alpha: 0.9 }, blocks: { blockSize: 32, alphaColumn: 0.9, alphaSlash: 0.9, rowRatio: 0.05 } }, params: [[{ ...tokens, alpha: 0.9 }, blocks64]] }));
  useStudio.setState({ model: { name: 'm', config: config as never, parameters: 0 }, prefill: { ids: new Int32Array(40), tokens: [], S: 40, ms: 0 }, layers: [], configMessage: null });
  await importConfig({ name: 'c.json', text: async () => text } as File);
  const s = useStudio.getState();
  assert.equal(s.configMessage?.ok, true, s.configMessage?.text ?? 'no message');
  assert.deepEqual(layerParams(s, 0, 2), [{ ...tokens, alpha: 0.9 }, blocks64]);
  const back = currentConfig();
  assert.deepEqual(back.layers[0].heads.map((h) => h.variant), ['tokens', 'blocks']);
  assert.deepEqual(back.defaults.tokens, { ...DEFAULT_PARAMS, alpha: 0.9 });
  assert.deepEqual(back.defaults.blocks, { blockSize: 128, alphaColumn: 0.95, alphaSlash: 0.95, rowRatio: 0.05 }, 'the studio keeps one variant\'s defaults; the other is the spec\'s');
});
