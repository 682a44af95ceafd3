// The variant flags and mixed-variant configs end to end on the tiny llama3 parity fixture (2
// layers, 4 heads / 2 kv heads): `run --variant blocks`, `eval --config` and `ttft --config` with
// tokens and blocks heads (two block sizes) in one layer, and `bench --variant blocks` where the
// adapter has timestamps. What each prints is checked, and the model-level figures are sane:
// density in (0, 1), recall in (0, 1], KL finite and >= 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cli } from '../helpers/cli';
import { PARITY_DIR } from '../helpers/parity';
import { gpu } from '../helpers/gpu';
import { buildConfig, parseConfig, serializeConfig } from '../../src/sampleattention/formats/config-file';
import { DEFAULT_PARAMS } from '../../src/sampleattention/spec/params';
import type { HeadSetting } from '../../src/sampleattention/spec/setting';
import type { EvalReport } from '../../cli/eval';
import type { TtftReport } from '../../cli/ttft';

const DIR = join(PARITY_DIR, 'llama3');
const TEXT = join(DIR, 'text.txt');
const tmp = mkdtempSync(join(tmpdir(), 'sa-variant-cli-'));
const MIXED = join(tmp, 'mixed.json');
const settings: HeadSetting[][] = [
  [{ variant: 'tokens', alpha: 0.9, rowRatio: 0.1, windowRatio: 0.1 }, { variant: 'blocks', blockSize: 16, alphaColumn: 0.8, alphaSlash: 0.8, rowRatio: 0.1 }, { variant: 'blocks', blockSize: 32, alphaColumn: 0.9, alphaSlash: 0.7, rowRatio: 0.2 }, { variant: 'tokens', alpha: 0.6, rowRatio: 0.05, windowRatio: 0 }],
  Array.from({ length: 4 }, () => ({ variant: 'blocks' as const, blockSize: 16, alphaColumn: 0.7, alphaSlash: 0.7, rowRatio: 0.05 })),
];
writeFileSync(MIXED, serializeConfig(buildConfig({ model: { name: 'llama3', family: 'llama', layers: 2, heads: 4, kvHeads: 2, headDim: 16 }, text: { tokens: 40 }, defaults: DEFAULT_PARAMS, params: settings })));

test('run --variant blocks: every head on the blocks kernels, per-layer measures printed', async () => {
  const r = await cli(['run', '--model', DIR, '--text', TEXT, '--max-tokens', '40', '--variant', 'blocks', '--block-size', '16', '--alpha-column', '0.8']);
  assert.equal(r.rc, 0, r.err);
  assert.match(r.out, /attention: SampleAttention blocks blockSize 16, alphaColumn 0.8, alphaSlash 0.95, rowRatio 0.05 in every head/);
  const densities = [...r.out.matchAll(/layer \d: recall ([0-9.]+), density ([0-9.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(densities.length, 2, r.out);
  for (const [rec, den] of densities) assert.ok(rec > 0 && rec <= 1 + 1e-6 && den > 0 && den <= 1, `recall ${rec}, density ${den}`);
  const bad = await cli(['run', '--model', DIR, '--text', TEXT, '--variant', 'blocks', '--window-ratio', '0.1']);
  assert.equal(bad.rc, 2);
  assert.match(bad.err, /--window-ratio is a flag of --variant tokens/);
});

test('eval and ttft --config with tokens and blocks heads (two block sizes) in one layer', async () => {
  const json = join(tmp, 'eval.json');
  const e = await cli(['eval', '--model', DIR, '--text', TEXT, '--max-tokens', '40', '--config', MIXED, '--passkey-lengths', 'none', '--json', json]);
  assert.equal(e.rc, 0, e.err);
  assert.match(e.out, /attention: SampleAttention per head from .*mixed\.json \(2 tokens, 6 blocks heads\)/);
  const rep = JSON.parse(readFileSync(json, 'utf8')) as EvalReport;
  const t = rep.texts[0];
  assert.equal(t.selection.perLayer.length, 2);
  assert.ok(t.selection.density > 0 && t.selection.density < 1 && t.selection.recallMean > 0 && t.selection.recallMean <= 1 + 1e-6, JSON.stringify(t.selection));
  assert.ok(t.meanKl >= 0 && Number.isFinite(t.meanKl), `mean KL ${t.meanKl}`);
  const tj = join(tmp, 'ttft.json');
  const f = await cli(['ttft', '--model', DIR, '--text', TEXT, '--lengths', '40', '--repeats', '1', '--config', MIXED, '--json', tj]);
  assert.equal(f.rc, 0, f.err);
  const tr = JSON.parse(readFileSync(tj, 'utf8')) as TtftReport;
  assert.equal(tr.rows.length, 1);
  assert.ok(tr.rows[0].kl >= 0 && Number.isFinite(tr.rows[0].kl) && tr.rows[0].sparseMs > 0, JSON.stringify(tr.rows[0]));
  const b = await cli(['ttft', '--model', DIR, '--text', TEXT, '--lengths', '40', '--repeats', '1', '--variant', 'blocks', '--block-size', '32']);
  assert.equal(b.rc, 0, b.err);
  assert.match(b.out, /attention: SampleAttention blocks blockSize 32/);
});

test('bench --variant blocks: the blocks columns beside tokens and dense (where timestamps exist)', async (t) => {
  if (!(await gpu()).hasTimestamps) return t.skip('this adapter has no timestamp queries');
  const out = join(tmp, 'bench.json');
  const r = await cli(['bench', '--S', '100', '--heads', '2', '--kv-heads', '1', '--d', '16', '--repeats', '1', '--variant', 'blocks', '--block-size', '16', '--out', out]);
  assert.equal(r.rc, 0, r.err);
  assert.match(r.out, /blocks stages ms \| blocks sparse ms/);
  const res = JSON.parse(readFileSync(out, 'utf8')).results[0];
  const bt = res.blocks?.times?.[0];
  assert.ok(res.blocks && res.blocks.params.blockSize === 16 && bt && bt.precision === 'f32' && bt.density > 0 && bt.density <= 1 && bt.tileShare > 0 && bt.tileShare <= 1 && res.blocks.recallMean > 0 && res.blocks.recallMean <= 1 + 1e-6, JSON.stringify(res.blocks));
});

test('tune --variant both: every head picks a variant, the report says which, and the config runs', async () => {
  const out = join(tmp, 'tuned.json');
  const r = await cli(['tune', '--model', DIR, '--text', TEXT, '--max-tokens', '48', '--target-recall', '0.9', '--variant', 'both', '--alphas', '0.9', '--row-ratios', '0.1', '--window-ratios', '0,0.2',
    '--block-sizes', '16,32', '--alpha-columns', '0.8,0.95', '--alpha-slashes', '0.9', '--out', out]);
  assert.equal(r.rc, 0, r.err);
  assert.match(r.err, /tune: 5 grid points \(3 tokens incl\. the full mask, 2 blocks\)/, 'b = 32 > 48 / 2 is left out');
  const cfg = parseConfig(readFileSync(out, 'utf8'), out);
  const heads = cfg.layers.flatMap((l) => l.heads);
  assert.ok(heads.every((h) => h.measured && h.measured.recallMean >= 0.9 - 2e-5), 'every head meets the target');
  const m = /variant chosen: (\d+) heads tokens, (\d+) blocks, (\d+) the full mask/.exec(r.out);
  assert.ok(m, r.out);
  assert.equal(Number(m[2]), heads.filter((h) => h.variant === 'blocks').length);
  assert.equal(Number(m[1]) + Number(m[2]) + Number(m[3]), 8);
  assert.match(r.out, /chosen settings per layer x head/);
  const bad = await cli(['tune', '--model', DIR, '--text', TEXT, '--target-recall', '0.9', '--variant', 'tokens', '--block-sizes', '16', '--out', out]);
  assert.equal(bad.rc, 2);
  assert.match(bad.err, /--block-sizes is a flag of --variant blocks/);
  const run = await cli(['run', '--model', DIR, '--text', TEXT, '--max-tokens', '48', '--config', out]);
  assert.equal(run.rc, 0, run.err);
  assert.match(run.out, /SampleAttention per head from .*tuned\.json/);
});
