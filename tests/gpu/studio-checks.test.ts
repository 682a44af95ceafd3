// The studio's model-wide checks give the command line's numbers: the engine (what the studio
// runs, here on Dawn in Node) and `sa-studio tune` / `sa-studio eval` on the same model, text,
// token limit and parameters. Both call the same library code on the same device, so the figures
// must agree to f32 rounding of the two runs (asserted at 1e-6 relative; in practice identical).
// Also: the engine's rival curves for a head match src/sampleattention/studies/rivals.ts on the captured q/k,
// a blocks head's at its own setting, and the engine times a blocks head's kernels.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gpu } from '../helpers/gpu';
import { StudioEngine } from '../../src/engine/studio-engine';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { evalCommand, type EvalReport } from '../../cli/eval';
import { tuneCommand } from '../../cli/tune';
import { parseConfig } from '../../src/sampleattention/formats/config-file';
import { DEFAULT_PARAMS, type SampleParams } from '../../src/sampleattention/spec/params';
import { headParams } from '../../src/sampleattention/formats/config-file';
import { buildModel, forward } from '../../src/model/forward';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { DEFAULT_RIVALS, headCurves } from '../../src/sampleattention/studies/rivals';
import { curvesOf } from '../../src/sampleattention/studies/rivals-study';
import { tunedOverrides } from '../../src/state/check-actions';
import { applyOverride } from '../../src/state/settings';
import { DEFAULT_SETTINGS, type BlocksSetting, type SettingLike } from '../../src/sampleattention/spec/setting';
import { sweepSetting } from '../../src/state/params';
import { variantCounts, variantCountsText, type TuneGrid } from '../../src/sampleattention/studies/tune';

const MODEL = join(process.cwd(), 'public/models/default');
const TEXT = join(process.cwd(), 'public/texts/prose-nodejs-pull-requests.md');
const TOKENS = 80;
const GRID = { alpha: [0.8, 0.95], rowRatio: [0.05], windowRatio: [0, 0.08, 1] };
const REL = 1e-6;

let engine: StudioEngine;
let ids: Int32Array;
let shape: { layers: number; heads: number };
const progress: [number, number, string][] = [];
const onProgress = (done: number, total: number, unit: string) => void progress.push([done, total, unit]);

const everyHead = (p: SampleParams): SampleParams[][] => Array.from({ length: shape.layers }, () => Array.from({ length: shape.heads }, () => ({ ...p })));

function close(a: number, b: number, what: string): void {
  assert.ok(Number.isFinite(a) && Number.isFinite(b), `${what}: ${a} vs ${b}`);
  assert.ok(Math.abs(a - b) <= REL * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: studio ${a} vs command line ${b}`);
}

before(async () => {
  engine = await StudioEngine.open(await gpu());
  const m = await engine.loadModel(nodeFolder(MODEL), () => undefined);
  shape = { layers: m.config.numLayers, heads: m.config.numHeads };
  ids = engine.tokenize(readFileSync(TEXT, 'utf8'), TOKENS).ids;
  assert.equal(ids.length, TOKENS);
  await engine.prefill(ids, () => undefined);
});

after(() => engine?.dispose());

test('near-lossless check: the studio engine and `sa-studio eval` print the same figures', async () => {
  const params = everyHead(DEFAULT_PARAMS);
  progress.length = 0;
  const studio = await engine.check(params, { lengths: [96], depths: [0.5] }, onProgress);
  assert.ok(progress.length > 0 && progress.every(([d, t]) => d <= t), 'progress is reported and never passes its total');

  const out = join(mkdtempSync(join(tmpdir(), 'sa-check-')), 'eval.json');
  const rc = await evalCommand(['--model', MODEL, '--text', TEXT, '--max-tokens', String(TOKENS), '--passkey-lengths', '96', '--passkey-depths', '0.5', '--json', out]);
  assert.equal(rc, 0);
  const cli = JSON.parse(readFileSync(out, 'utf8')) as EvalReport;
  const t = cli.texts[0];
  assert.equal(studio.texts[0].tokens, t.tokens);
  for (const k of ['meanKl', 'maxKl', 'top1Agreement', 'pplDense', 'pplSparse', 'pplChangePct'] as const) close(studio.texts[0][k], t[k], k);
  for (const k of ['recallMean', 'density', 'worstRecallP5'] as const) close(studio.texts[0].selection[k], t.selection[k], `selection.${k}`);
  // The sparse run really is sparse here: the comparison is not of two identical runs.
  assert.ok(studio.texts[0].selection.density < 0.99 && studio.texts[0].meanKl > 0, `density ${studio.texts[0].selection.density}, KL ${studio.texts[0].meanKl}`);
  assert.equal(studio.passkey.length, 1);
  assert.deepEqual(studio.passkey, cli.passkey);
  assert.deepEqual(studio.passkeyAccuracy, cli.passkeyAccuracy);
});

test('auto-tune --variant both: the studio engine and `sa-studio tune` choose the same setting (and variant) for every head', async () => {
  const rule = { targetRecall: 0.95, minRowRecall: 0.8 };
  progress.length = 0;
  // 6 tokens points (windowRatio 1 is the full mask) and 2 blocks points (b = 64 > 80 / 2 is left out).
  const grid: TuneGrid = { ...GRID, variant: 'both', blocks: { blockSize: [16, 64], alphaColumn: [0.9], alphaSlash: [0.8, 0.95], rowRatio: [0.05] } };
  const studio = await engine.tune(rule, grid, onProgress);
  const last = progress[progress.length - 1];
  assert.deepEqual(last, [shape.layers * 8, shape.layers * 8, 'grid points'], 'progress ends at layers x grid points');

  const out = join(mkdtempSync(join(tmpdir(), 'sa-tune-')), 'tuned.json');
  const rc = await tuneCommand(['--model', MODEL, '--text', TEXT, '--max-tokens', String(TOKENS), '--target-recall', '0.95', '--min-row-recall', '0.8',
    '--alphas', GRID.alpha.join(','), '--row-ratios', GRID.rowRatio.join(','), '--window-ratios', GRID.windowRatio.join(','),
    '--variant', 'both', '--block-sizes', '16,64', '--alpha-columns', '0.9', '--alpha-slashes', '0.8,0.95', '--blocks-row-ratios', '0.05', '--out', out]);
  assert.equal(rc, 0);
  const cfg = parseConfig(readFileSync(out, 'utf8'), out);
  studio.choices.forEach((layer, l) => layer.forEach((choice, h) => {
    assert.deepEqual(choice.params, headParams(cfg, l, h), `layer ${l} head ${h}`);
    const m = cfg.layers[l].heads[h].measured!;
    close(studio.measured[l][h].recallMean, m.recallMean, `L${l}h${h} recall`);
    close(studio.measured[l][h].density, m.density, `L${l}h${h} density`);
  }));
  const n = variantCounts(studio.choices);
  assert.equal(n.tokens + n.blocks + n.full, shape.layers * shape.heads);
  console.log(`tune --variant both at ${TOKENS} tokens: ${variantCountsText(n)}`);
  // The studio applies the result as overrides on the spec's defaults: they give back every head's choice.
  const o = tunedOverrides(studio.choices);
  studio.choices.forEach((layer, l) => layer.forEach((choice, h) => assert.deepEqual(applyOverride(DEFAULT_SETTINGS.tokens, o[`${l}:${h}`]), choice.params)));
  // windowRatio 1 is in the grid, so every head can meet the rule.
  assert.ok(studio.choices.flat().every((x) => x.met));
});

test('rival patterns: the engine\'s curves for one head are rivals.ts on the captured q/k', async () => {
  const params = everyHead({ ...DEFAULT_PARAMS, windowRatio: 0.04 });
  const r = await engine.rivals(params, { layer: 3, head: 5 }, 1024, onProgress);
  assert.equal(r.tokens, TOKENS);
  assert.equal(r.head_curves.length, 1);
  const got = curvesOf(r, 3, 5)!;
  // Reference: capture q/k with the model's forward directly and build the curves.
  const { q, k, d, S } = await head35();
  const want = headCurves(q, k, S, d, { rowRatio: 0.05, windowRatio: 0.04 });
  assert.deepEqual(got.map((c) => c.pattern), want.map((c) => c.pattern));
  got.forEach((c, i) => c.points.forEach((p, j) => {
    close(p.density, want[i].points[j].density, `${c.pattern}[${j}] density`);
    close(p.recallMean, want[i].points[j].recallMean, `${c.pattern}[${j}] recall`);
  }));
});

/** Layer 3 head 5's q and k from the model's own forward (not the engine's), once for both tests. */
let head35Cache: Promise<{ q: Float32Array; k: Float32Array; d: number; S: number }> | null = null;
function head35() {
  head35Cache ??= (async () => {
    const cp = await loadCheckpoint(nodeFolder(MODEL), () => undefined);
    const model = buildModel(await gpu(), cp.config, cp.weights);
    try {
      const f = await forward(model, ids, { captureQK: true, logits: 'none' });
      const d = cp.config.headDim, S = ids.length;
      const g = Math.floor(5 / (cp.config.numHeads / cp.config.numKvHeads));
      return { q: f.q![3].slice(5 * S * d, 6 * S * d), k: f.k![3].slice(g * S * d, (g + 1) * S * d), d, S };
    } finally {
      model.dispose();
    }
  })();
  return head35Cache;
}

test('a blocks head: latency times its stages and block-sparse pass beside dense; rivals measure it at its own setting', async (t) => {
  const blocks: BlocksSetting = { variant: 'blocks', blockSize: 16, alphaColumn: 0.9, alphaSlash: 0.8, rowRatio: 0.1 };
  // The sweep's setting moves both alphas together at the head's block size and rowRatio.
  assert.deepEqual(sweepSetting(blocks, 0.7), { ...blocks, alphaColumn: 0.7, alphaSlash: 0.7 });
  const params = everyHead(DEFAULT_PARAMS).map((l, li) => l.map((p, h): SettingLike => (li === 3 && h === 5 ? blocks : p)));
  const r = await engine.rivals(params, { layer: 3, head: 5 }, 1024, onProgress);
  const got = curvesOf(r, 3, 5)!;
  assert.deepEqual(got.map((c) => c.pattern).slice(0, 2), ['sampleattention', 'sampleattention-blocks'], 'both SampleAttention rows, as the CLI\'s');
  const { q, k, d, S } = await head35();
  // Its blocks curve at its block size and rowRatio, its alphas in the sweep; its tokens curve at the tokens defaults.
  const want = headCurves(q, k, S, d, { alphas: [...DEFAULT_RIVALS.alphas], rowRatio: DEFAULT_PARAMS.rowRatio, windowRatio: DEFAULT_PARAMS.windowRatio, blockSize: 16, blocksRowRatio: 0.1 });
  assert.equal(got[1].knob, want[1].knob);
  assert.match(got[1].knob, /block 16/);
  got.forEach((c, i) => c.points.forEach((p, j) => {
    close(p.density, want[i].points[j].density, `${c.pattern}[${j}] density`);
    close(p.recallMean, want[i].points[j].recallMean, `${c.pattern}[${j}] recall`);
  }));
  if (!engine.ctx.hasTimestamps) return t.skip('this adapter has no timestamp queries');
  const lat = await engine.blocksLatency(3, 5, blocks, 2);
  assert.equal(lat.variant, 'blocks');
  assert.equal(lat.note, undefined);
  for (const [k, v] of Object.entries({ dense: lat.denseMs, stages: lat.stagesMs, sparse: lat.sparseMs })) assert.ok(Number.isFinite(v) && v! > 0, `${k} ${v} ms`);
});
