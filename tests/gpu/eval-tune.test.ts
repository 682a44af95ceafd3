// Auto-tuning on the GPU engine: the grid's per-head measures match the float64 reference
// (selectHead) on synthetic q/k of awkward sizes, and each head's choice is the lowest-density
// grid point that meets the rule by the reference's own numbers (up to f32 noise at the threshold).
// Then `sa-studio tune` and `sa-studio apply` end to end on the llama3 fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { freshSeed, gpu } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';
import { gridPoints, tuneLayer, type TuneRule } from '../../src/sampleattention/studies/tune';
import { headView, kvHeadOf } from '../../src/sampleattention/spec/reference';
import { selectHeadSetting } from '../../src/sampleattention/spec/setting-reference';
import { parseConfig } from '../../src/sampleattention/formats/config-file';
import { tuneCommand } from '../../cli/tune';
import { applyCommand } from '../../cli/apply';
import { PARITY_DIR } from '../helpers/parity';

const seed = freshSeed();
// GPU recall comes from f32 log-sum-exps and f32 sums over <= 60 keys: ~1e-6 relative; 2e-5 leaves
// room. Density is a count over S(S+1)/2 in f32: exact for these sizes, 1e-6 for the division.
const RECALL_TOL = 2e-5;

test(`tuneLayer on synthetic heads (tokens and blocks settings) matches the float64 reference and picks the lowest qualifying density (SEED=${seed})`, async () => {
  const ctx = await gpu();
  const heads = 4, kvHeads = 2, d = 24;
  const texts = [37, 53].map((S, t) => ({ S, ...attentionInputs(seed + t, heads, kvHeads, S, d, t === 0 ? 'structured' : 'random') }));
  // Both variants: each head picks its variant too (block sizes 8 and 16 fit S = 37 and 53 twice).
  const points = gridPoints({ alpha: [0.6, 0.95], rowRatio: [0.1], windowRatio: [0, 0.15, 1], variant: 'both', blocks: { blockSize: [8, 16, 32], alphaColumn: [0.6, 0.95], alphaSlash: [0.8], rowRatio: [0.1] } }, 37);
  assert.equal(points.filter((p) => p.variant === 'blocks').length, 4, 'b = 32 > 37 / 2 left out');
  assert.ok(gridPoints({ alpha: [0.9], rowRatio: [0.1], windowRatio: [0] }).every((p) => p.variant === 'tokens'), 'a grid without a variant is the tokens variant\'s');
  const rule: TuneRule = { targetRecall: 0.9, minRowRecall: 0.5 };
  const r = await tuneLayer(ctx, { heads, kvHeads, headDim: d }, texts.map((t) => ({ S: t.S, q: t.q, k: t.k })), points, rule);
  // The reference's measures for every text, point and head.
  const ref = texts.map((t) => points.map((p) => Array.from({ length: heads }, (_, h) =>
    selectHeadSetting(headView(t.q, h, t.S, d), headView(t.k, kvHeadOf(h, heads, kvHeads), t.S, d), t.S, d, p))));
  for (let h = 0; h < heads; h++) {
    const c = r.choices[h];
    const stat = (p: number) => ({
      wm: Math.min(...ref.map((t) => t[p][h].recallMean)),
      wp: Math.min(...ref.map((t) => t[p][h].recallP5)),
      d: ref.reduce((a, t) => a + t[p][h].density, 0) / ref.length,
    });
    // The chosen point's measures as recorded equal the reference's.
    for (let t = 0; t < texts.length; t++) {
      const g = r.measured[t][h], x = ref[t][c.point][h];
      assert.ok(Math.abs(g.recallMean - x.recallMean) < RECALL_TOL && Math.abs(g.recallP5 - x.recallP5) < RECALL_TOL, `head ${h} text ${t}: GPU ${JSON.stringify(g)} vs reference ${JSON.stringify(x)}`);
      assert.ok(Math.abs(g.density - x.density) < 1e-6, `head ${h} text ${t}: density ${g.density} vs ${x.density}`);
    }
    const s = stat(c.point);
    const meets = (p: number, tol: number) => stat(p).wm >= rule.targetRecall + tol && stat(p).wp >= rule.minRowRecall! + tol;
    // windowRatio 1 is in the grid and gives recall 1: every head can meet the rule.
    assert.equal(c.met, true, `head ${h} fell back`);
    assert.ok(meets(c.point, -RECALL_TOL), `head ${h}: chosen point ${c.point} fails the rule by the reference (${JSON.stringify(s)})`);
    for (let p = 0; p < points.length; p++) {
      if (stat(p).d < s.d - 1e-9) assert.ok(!meets(p, RECALL_TOL), `head ${h}: point ${p} (density ${stat(p).d}) meets the rule but ${c.point} (density ${s.d}) was chosen`);
    }
  }
});

test('sa-studio tune then apply on the llama3 fixture', async () => {
  const dir = join(PARITY_DIR, 'llama3');
  const text = join(dir, 'text.txt');
  const out = join(mkdtempSync(join(tmpdir(), 'sa-tune-')), 'cfg.json');
  const sel = out.replace('cfg.json', 'sel.json');
  const log = console.log;
  let printed = '';
  console.log = (x: unknown) => { printed += String(x) + '\n'; };
  try {
    assert.equal(await tuneCommand(['--model', dir, '--text', text, '--max-tokens', '48', '--target-recall', '0.9', '--min-row-recall', '0.6', '--alphas', '0.9', '--row-ratios', '0.1', '--window-ratios', '0,0.2,1', '--out', out]), 0);
    const cfg = parseConfig(readFileSync(out, 'utf8'), out);
    assert.equal(cfg.layers.length, 2);
    assert.equal(cfg.text.tokens, 48);
    for (const l of cfg.layers) for (const h of l.heads) {
      assert.ok(h.measured, 'tune records the measures');
      assert.ok(h.measured!.recallMean >= 0.9 - RECALL_TOL && h.measured!.recallP5 >= 0.6 - RECALL_TOL, `head ${JSON.stringify(h)}`);
    }
    assert.match(printed, /density of the chosen setting/);
    printed = '';
    assert.equal(await applyCommand(['--config', out, '--model', dir, '--text', text, '--max-tokens', '48', '--out', sel]), 0);
    const s = JSON.parse(readFileSync(sel, 'utf8'));
    assert.equal(s.layers.length, 2);
    // Same text, same tokens: apply reproduces the recorded measures (same engine, same inputs).
    s.layers.forEach((l: { heads: { recallMean: number; density: number }[] }, li: number) => l.heads.forEach((h, hi) => {
      const m = cfg.layers[li].heads[hi].measured!;
      assert.ok(Math.abs(h.recallMean - m.recallMean) < RECALL_TOL && Math.abs(h.density - m.density) < 1e-9, `layer ${li} head ${hi}: apply ${JSON.stringify(h)} vs config ${JSON.stringify(m)}`);
    }));
    assert.match(printed, /config recall/);
  } finally {
    console.log = log;
  }
});

test('sa-studio apply refuses a config made for another model shape', async () => {
  const dir = join(PARITY_DIR, 'llama3');
  const tmp = mkdtempSync(join(tmpdir(), 'sa-apply-'));
  const cfgFile = join(tmp, 'wrong.json');
  const { writeFileSync } = await import('node:fs');
  const { buildConfig, serializeConfig } = await import('../../src/sampleattention/formats/config-file');
  const p = { alpha: 0.9, rowRatio: 0.1, windowRatio: 0.1 };
  writeFileSync(cfgFile, serializeConfig(buildConfig({ model: { name: 'llama3', family: 'llama', layers: 2, heads: 4, kvHeads: 2, headDim: 32 }, text: { tokens: 10 }, defaults: p, params: [[p, p, p, p], [p, p, p, p]] })));
  await assert.rejects(applyCommand(['--config', cfgFile, '--model', dir, '--text', join(dir, 'text.txt')]), /headDim: config 32, model 16/);
});
