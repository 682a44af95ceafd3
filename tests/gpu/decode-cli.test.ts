// `sa-studio generate` and `sa-studio ttft` end to end on the tiny llama3 parity fixture (2 layers:
// a default-model forward takes 10-30 s on SwiftShader, the fixture's well under one): the
// generated text with a full-mask SampleAttention prefill is the dense one, ttft's table and JSON
// have one row per length with the tiling said, KL ~ 0 for the full mask and > 0 for a sparse one,
// the memory guard refuses a run over SA_STUDIO_GPU_BUDGET_MIB with exit 2 and the numbers, and
// ttft's measure-free SampleAttention computes what the measured run computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cli } from '../helpers/cli';
import type { TtftReport } from '../../cli/ttft';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { PARITY_DIR } from '../helpers/parity';
import { relError } from '../helpers/gpu';
import { openSession } from '../../cli/session';
import { forward } from '../../src/model/forward';
import { headShape } from '../../src/sampleattention/studies/tune';
import { sampleAttentionOverride } from '../../src/sampleattention/gpu-run/model-attention';
import { sampleAttentionPrefill } from '../../src/sampleattention/gpu-run/prefill-attention';

const DIR = join(PARITY_DIR, 'llama3');
const TEXT = join(DIR, 'text.txt');

test('generate: new text only on stdout; a full-mask SampleAttention prefill continues as the dense one', async () => {
  const base = ['generate', '--model', DIR, '--text', TEXT, '--max-tokens', '30', '--max-new-tokens', '4'];
  const dense = await cli(base);
  assert.equal(dense.rc, 0, dense.err);
  assert.match(dense.err, /prefill 30 tokens with dense attention/);
  assert.match(dense.err, /3 decode steps in [0-9.]+ ms/);
  assert.ok(dense.out.trim().length > 0 && !/generate:/.test(dense.out), `stdout holds only the new text: ${JSON.stringify(dense.out)}`);
  const full = await cli([...base, '--window-ratio', '1']);
  assert.equal(full.rc, 0, full.err);
  assert.match(full.err, /with SampleAttention alpha 0\.95, rowRatio [0-9.]+, windowRatio 1 in every head/);
  assert.equal(full.out, dense.out);
});

test('generate: over the memory budget, exit 2 naming the numbers and what to do', async () => {
  const r = await cli(['generate', '--model', DIR, '--text', TEXT, '--max-new-tokens', '4'], { SA_STUDIO_GPU_BUDGET_MIB: '0.01' });
  assert.equal(r.rc, 2);
  assert.match(r.err, /GPU memory: at \d+ tokens this needs about [0-9.]+ MiB \(weights [0-9.]+ MiB, activations [0-9.]+ MiB, KV cache [0-9.]+ MiB\), more than the 0\.0 MiB budget\. Use fewer tokens/);
  assert.equal(r.out, '');
});

test('ttft: one row per length, tiling said, KL ~ 0 with the full mask and > 0 with a sparse one', async () => {
  const cp = await loadCheckpoint(nodeFolder(DIR), () => undefined);
  const textTokens = cp.tokenizer.encode(readFileSync(TEXT, 'utf8')).length;
  const dir = mkdtempSync(join(tmpdir(), 'sa-ttft-'));
  const lengths = [textTokens - 5, 2 * textTokens + 3]; // one cut from the text, one tiled past it
  const full = await cli(['ttft', '--model', DIR, '--text', TEXT, '--lengths', lengths.join(','), '--repeats', '1', '--window-ratio', '1', '--json', join(dir, 'full.json')]);
  assert.equal(full.rc, 0, full.err);
  const r = JSON.parse(readFileSync(join(dir, 'full.json'), 'utf8')) as TtftReport;
  assert.deepEqual(r.rows.map((x) => [x.length, x.tiled]), [[lengths[0], false], [lengths[1], true]]);
  assert.match(full.err, new RegExp(`the text has ${textTokens} tokens; repeated to ${lengths[1]}`));
  for (const x of r.rows) {
    assert.ok(x.denseMs > 0 && x.sparseMs > 0 && x.denseAllMs.length === 1 && Number.isFinite(x.speedup), JSON.stringify(x));
    // Full mask: the same attention through other kernels; f32 rounding only (see eval-model.test.ts).
    assert.ok(x.kl >= 0 && x.kl < 1e-6, `full mask: KL ${x.kl}`);
    assert.equal(x.top1Agree, true);
  }
  const lines = full.out.trimEnd().split('\n');
  const head = lines.findIndex((l) => l.startsWith('tokens'));
  assert.ok(head > 0, full.out);
  assert.match(lines[head], /^tokens\s+dense ms\s+sparse ms\s+speedup\s+KL final\s+top-1 same$/);
  assert.match(lines[head + 3], new RegExp(`^\\s*${lengths[1]}\\*\\s`));
  assert.match(full.out, /\* the text's tokens repeated to reach the length/);

  const sparse = await cli(['ttft', '--model', DIR, '--text', TEXT, '--lengths', String(lengths[1]), '--repeats', '1', '--alpha', '0.5', '--window-ratio', '0.05', '--json', join(dir, 'sparse.json')]);
  assert.equal(sparse.rc, 0, sparse.err);
  const s = JSON.parse(readFileSync(join(dir, 'sparse.json'), 'utf8')) as TtftReport;
  assert.ok(Number.isFinite(s.rows[0].kl) && s.rows[0].kl > 1e-8, `a sparse mask must move a random model's final logits: KL ${s.rows[0].kl}`);
});

test('the measure-free SampleAttention prefill (ttft, generate) gives the measured override\'s logits', async () => {
  const s = await openSession(DIR, TEXT, 48);
  const c = s.checkpoint.config;
  const shape = headShape(c);
  const params = { alpha: 0.5, rowRatio: 0.1, windowRatio: 0.05 };
  const fast = sampleAttentionPrefill(s.ctx, shape, params);
  try {
    const a = await forward(s.model, s.ids, { logits: 'all', attention: fast.attention });
    const b = await forward(s.model, s.ids, { logits: 'all', attention: sampleAttentionOverride(s.ctx, shape, params) });
    const dense = await forward(s.model, s.ids, { logits: 'all' });
    // Same stages, same sparse kernel, same inputs: the same numbers, bit for bit.
    assert.deepEqual(a.logits, b.logits);
    assert.ok(relError(a.logits, dense.logits) > 1e-4, 'this sparse setting must differ from dense, or the test shows nothing');
  } finally {
    fast.release();
    s.model.dispose();
  }
});
