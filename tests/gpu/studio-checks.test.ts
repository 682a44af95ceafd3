// The studio's model-wide checks give the command line's numbers: the engine (what the studio
// runs, here on Dawn in Node) and `sa-studio tune` / `sa-studio eval` on the same model, text,
// token limit and parameters. Both call the same library code on the same device, so the figures
// must agree to f32 rounding of the two runs (asserted at 1e-6 relative; in practice identical).
// Also: the engine's rival curves for a head match src/sampleattention/studies/rivals.ts on the captured q/k.
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
import { headCurves } from '../../src/sampleattention/studies/rivals';
import { curvesOf } from '../../src/sampleattention/studies/rivals-study';
import { tunedOverrides } from '../../src/state/check-actions';

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

test('auto-tune: the studio engine and `sa-studio tune` choose the same setting for every head', async () => {
  const rule = { targetRecall: 0.95, minRowRecall: 0.8 };
  progress.length = 0;
  const studio = await engine.tune(rule, GRID, onProgress);
  const last = progress[progress.length - 1];
  assert.deepEqual(last, [shape.layers * 6, shape.layers * 6, 'grid points'], 'progress ends at layers x grid points');

  const out = join(mkdtempSync(join(tmpdir(), 'sa-tune-')), 'tuned.json');
  const rc = await tuneCommand(['--model', MODEL, '--text', TEXT, '--max-tokens', String(TOKENS), '--target-recall', '0.95', '--min-row-recall', '0.8',
    '--alphas', GRID.alpha.join(','), '--row-ratios', GRID.rowRatio.join(','), '--window-ratios', GRID.windowRatio.join(','), '--out', out]);
  assert.equal(rc, 0);
  const cfg = parseConfig(readFileSync(out, 'utf8'), out);
  studio.choices.forEach((layer, l) => layer.forEach((choice, h) => {
    assert.deepEqual({ variant: 'tokens', ...choice.params }, headParams(cfg, l, h), `layer ${l} head ${h}`);
    const m = cfg.layers[l].heads[h].measured!;
    close(studio.measured[l][h].recallMean, m.recallMean, `L${l}h${h} recall`);
    close(studio.measured[l][h].density, m.density, `L${l}h${h} density`);
  }));
  // The studio applies the result as overrides on the spec's defaults: they give back every head's choice.
  const o = tunedOverrides(studio.choices);
  studio.choices.forEach((layer, l) => layer.forEach((choice, h) => assert.deepEqual({ ...DEFAULT_PARAMS, ...o[`${l}:${h}`] }, choice.params)));
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
  const cp = await loadCheckpoint(nodeFolder(MODEL), () => undefined);
  const model = buildModel(await gpu(), cp.config, cp.weights);
  try {
    const f = await forward(model, ids, { captureQK: true, logits: 'none' });
    const d = cp.config.headDim, S = ids.length;
    const g = Math.floor(5 / (cp.config.numHeads / cp.config.numKvHeads));
    const want = headCurves(f.q![3].subarray(5 * S * d, 6 * S * d), f.k![3].subarray(g * S * d, (g + 1) * S * d), S, d, { rowRatio: 0.05, windowRatio: 0.04 });
    assert.deepEqual(got.map((c) => c.pattern), want.map((c) => c.pattern));
    got.forEach((c, i) => c.points.forEach((p, j) => {
      close(p.density, want[i].points[j].density, `${c.pattern}[${j}] density`);
      close(p.recallMean, want[i].points[j].recallMean, `${c.pattern}[${j}] recall`);
    }));
  } finally {
    model.dispose();
  }
});
