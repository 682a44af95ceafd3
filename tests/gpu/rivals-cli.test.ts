// `sa-studio rivals` end to end on the tiny llama3 parity fixture (2 layers, 4 heads, 2 kv heads),
// S = 48: the --json curves of every head equal headCurves on the q/k the model's forward captures
// (grouped-query kv head), the model curve is their mean, the table (both SampleAttention variants:
// sampleattention for `tokens`, sampleattention-blocks at --block-size for `blocks`) and the SVG are
// written; a layer out of range is a usage error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openSession } from '../../cli/session';
import { forward } from '../../src/model/forward';
import { rivalOptions, rivalsCommand, type RivalsReport } from '../../cli/rivals';
import { UsageError } from '../../cli/args';
import { headCurves, modelCurves } from '../../src/sampleattention/studies/rivals';
import { DEFAULT_PARAMS } from '../../src/sampleattention/spec/params';
import { PARITY_DIR } from '../helpers/parity';

const DIR = join(PARITY_DIR, 'llama3');
const TEXT = join(DIR, 'text.txt');
const tmp = mkdtempSync(join(tmpdir(), 'sa-rivals-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function quiet<T>(f: () => Promise<T>): Promise<{ value: T; printed: string }> {
  const log = console.log;
  let printed = '';
  console.log = (x: unknown) => { printed += String(x) + '\n'; };
  try {
    return { value: await f(), printed };
  } finally {
    console.log = log;
  }
}

test('sa-studio rivals on the llama3 fixture: --json curves are headCurves of the captured q/k; table and SVG written', async () => {
  const json = join(tmp, 'rivals.json'), svg = join(tmp, 'rivals.svg');
  const { value: rc, printed } = await quiet(() => rivalsCommand(['--model', DIR, '--text', TEXT, '--max-tokens', '48', '--layers', '1', '--densities', '0.3,0.6', '--block-size', '8', '--json', json, '--svg', svg]));
  assert.equal(rc, 0);
  const r = JSON.parse(readFileSync(json, 'utf8')) as RivalsReport & { operatingPoint: { density: number; recall: number } };
  assert.deepEqual(r.layers, [1]);
  assert.deepEqual(r.heads, [0, 1, 2, 3]);
  assert.equal(r.head_curves.length, 4);
  assert.equal(r.blockSize, 8, '--block-size reaches the blocks rival');
  assert.ok(r.tokens >= 16 && r.tokens <= 48, `${r.tokens} tokens`);

  // The same q/k, captured here, through the library.
  const s = await openSession(DIR, TEXT, 48);
  try {
    const c = s.checkpoint.config;
    assert.equal(s.ids.length, r.tokens);
    const fw = await forward(s.model, s.ids, { captureQK: true, logits: 'none' });
    const S = s.ids.length, d = c.headDim;
    const want = Array.from({ length: c.numHeads }, (_, h) => {
      const g = Math.floor(h / (c.numHeads / c.numKvHeads));
      assert.equal(r.head_curves[h].kvHead, g);
      return headCurves(fw.q![1].subarray(h * S * d, (h + 1) * S * d), fw.k![1].subarray(g * S * d, (g + 1) * S * d), S, d, { ...rivalOptions(DEFAULT_PARAMS), blockSize: 8 });
    });
    // The forward is deterministic on one adapter: same q/k, same float64 curves.
    for (let h = 0; h < c.numHeads; h++) assert.deepEqual(r.head_curves[h].curves, JSON.parse(JSON.stringify(want[h])), `head ${h}`);
    assert.deepEqual(r.model_curves, JSON.parse(JSON.stringify(modelCurves(want))));
  } finally {
    s.model.dispose();
  }
  assert.match(printed, /^pattern\s+@0\.3\s+@0\.6\s+@SA /m);
  for (const p of ['sampleattention', 'sampleattention-blocks', 'streamingllm', 'vertical-slash', 'block-topk', 'oracle']) assert.match(printed, new RegExp(`^${p}\\s`, 'm'));
  assert.match(printed, /^1\s+sampleattention/m);
  const chart = readFileSync(svg, 'utf8');
  assert.equal((chart.match(/<path class="curve"/g) ?? []).length, 6);
  assert.match(chart, /<path class="curve" data-pattern="sampleattention-blocks"/);
  assert.equal((/<g class="head-points" data-pattern="sampleattention-blocks"[^>]*>(.*?)<\/g>/.exec(chart)?.[1].match(/<circle/g) ?? []).length, 4, 'a blocks point per head');
  assert.ok(!/NaN/.test(chart));
});

test('sa-studio rivals: a layer or head outside the model is a usage error', async () => {
  await assert.rejects(rivalsCommand(['--model', DIR, '--text', TEXT, '--max-tokens', '16', '--layers', '0,7']), (e: unknown) => e instanceof UsageError && /--layers 7 out of range: the model has 2 layers/.test((e as Error).message));
  await assert.rejects(rivalsCommand(['--model', DIR, '--text', TEXT, '--max-tokens', '16', '--heads', '4']), (e: unknown) => e instanceof UsageError && /--heads 4 out of range: the model has 4 query heads/.test((e as Error).message));
});
