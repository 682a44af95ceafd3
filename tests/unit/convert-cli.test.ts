// `sa-studio convert --to minference` (cli/convert.ts) end to end on the CPU: a studio config and a
// capture file written here; the MInference file it writes parses, with exact vertical sizes from
// --qk (the reference's own selection) and estimated ones without; bad inputs exit 2 with one line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshSeed, randn, rng } from '../helpers/gpu';
import { main } from '../../cli/main';
import { buildConfig, measuresOf, serializeConfig } from '../../src/sampleattention/formats/config-file';
import { minferenceHead, parseMInference } from '../../src/sampleattention/formats/minference-file';
import { writeSafetensors } from '../../src/model/loader/safetensors-format';
import { DEFAULT_PARAMS, headView, kvHeadOf, selectHead } from '../../src/sampleattention/spec/reference';

const seed = freshSeed();
const dir = mkdtempSync(join(tmpdir(), 'sa-convert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error, write = process.stderr.write;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  process.stderr.write = ((s: string) => (err.push(s.trimEnd()), true)) as typeof process.stderr.write;
  try {
    return { status: await main(argv), out, err };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

test(`convert --to minference: exact sizes with --qk, estimated without, said in the output (SEED=${seed})`, async () => {
  const r = rng(seed);
  const S = 30, d = 8, heads = 2, kvHeads = 1, layers = 2;
  const q = Array.from({ length: layers }, () => randn(r, heads * S * d));
  const k = Array.from({ length: layers }, () => randn(r, kvHeads * S * d));
  const params = [[{ alpha: 0.9, rowRatio: 0.2, windowRatio: 0.1 }, { alpha: 0.7, rowRatio: 0.5, windowRatio: 0 }], [DEFAULT_PARAMS, { alpha: 0.99, rowRatio: 1, windowRatio: 0.3 }]];
  const sels = params.map((lp, l) => lp.map((p, h) => selectHead(headView(q[l], h, S, d), headView(k[l], kvHeadOf(h, heads, kvHeads), S, d), S, d, p)));
  const cfgFile = join(dir, 'cfg.json'), qkFile = join(dir, 'qk.safetensors');
  writeFileSync(cfgFile, serializeConfig(buildConfig({ model: { name: 'tiny', family: 'llama', layers, heads, kvHeads, headDim: d }, text: { tokens: S }, defaults: DEFAULT_PARAMS, params, measured: sels.map((l) => l.map(measuresOf)) })));
  writeFileSync(qkFile, writeSafetensors(q.flatMap((ql, l) => [{ name: `q.${l}`, dtype: 'F32' as const, shape: [heads, S, d], data: ql }, { name: `k.${l}`, dtype: 'F32' as const, shape: [kvHeads, S, d], data: k[l] }])));

  const exact = await run(['convert', '--config', cfgFile, '--to', 'minference', '--out', join(dir, 'mi.json'), '--qk', qkFile]);
  assert.equal(exact.status, 0, exact.err.join('\n'));
  assert.match(exact.out.join('\n'), /vertical_size_source: exact \(the float64 reference's selection re-run on .*qk\.safetensors\)/);
  const mi = parseMInference(readFileSync(join(dir, 'mi.json'), 'utf8'));
  for (let l = 0; l < layers; l++) for (let h = 0; h < heads; h++) {
    const e = minferenceHead(mi, l, h, 'mi.json');
    assert.deepEqual([e.verticalSize, e.slashSize], [sels[l][h].selectedKeys.length, Math.max(1, sels[l][h].window)], `layer ${l} head ${h}`);
  }
  const est = await run(['convert', '--config', cfgFile, '--to', 'minference', '--out', join(dir, 'mi-est.json')]);
  assert.equal(est.status, 0, est.err.join('\n'));
  assert.match(est.out.join('\n'), /vertical_size_source: estimated/);
});

test('convert: a wrong target, a broken config, a capture of another shape exit 2 with one line naming the fault', async () => {
  const p = DEFAULT_PARAMS;
  const good = join(dir, 'good.json');
  writeFileSync(good, serializeConfig(buildConfig({ model: { name: 'm', family: 'llama', layers: 1, heads: 2, kvHeads: 1, headDim: 4 }, text: { tokens: 10 }, defaults: p, params: [[p, p]], measured: [[{ recallMean: 0.9, recallMin: 0.5, recallP5: 0.6, density: 0.4 }, { recallMean: 0.9, recallMin: 0.5, recallP5: 0.6, density: 0.4 }]] })));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"version": 1');
  const wrongShape = join(dir, 'wrong.safetensors');
  writeFileSync(wrongShape, writeSafetensors([{ name: 'q.0', dtype: 'F32', shape: [2, 10, 8], data: new Float32Array(160) }, { name: 'k.0', dtype: 'F32', shape: [1, 10, 8], data: new Float32Array(80) }]));
  const cases: [string[], RegExp][] = [
    [['--config', good, '--to', 'vllm', '--out', join(dir, 'x.json')], /--to vllm is not a target this verb knows; give --to minference/],
    [['--config', bad, '--to', 'minference', '--out', join(dir, 'x.json')], /bad\.json is not a valid SampleAttention config .*config: not valid JSON/],
    [['--config', good, '--to', 'minference', '--out', join(dir, 'x.json'), '--qk', join(dir, 'none.safetensors')], /--qk .*none\.safetensors: cannot read it \(no such file\)/],
    [['--config', good, '--to', 'minference', '--out', join(dir, 'x.json'), '--qk', wrongShape], /good\.json does not fit the capture: model: .*headDim 4, the capture's layer 0 has 2 \/ 1 \/ 8/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(['convert', ...argv]);
    assert.equal(r.status, 2, `${argv.join(' ')}: ${r.err.join('\n')}`);
    assert.equal(r.err.length, 1, JSON.stringify(r.err));
    assert.match(r.err[0], re);
  }
});
