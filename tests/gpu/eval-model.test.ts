// The near-lossless check on the tiny llama3 parity fixture (2 layers, 4 heads, 2 kv heads):
// SampleAttention with windowRatio 1 keeps the full causal mask, so the model's outputs must be the
// dense model's (KL ~ 0, top-1 agreement 1, same perplexity, same greedy passkey continuation);
// a sparse setting must move them. Then the `eval` verb end to end through its --json output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openSession } from '../../cli/session';
import { forward } from '../../src/model/forward';
import { sampleAttentionOverride } from '../../src/sampleattention/gpu-run/model-attention';
import { compareLogits, passkeyCase, summarizeSelections, type ForwardFn, type GenerateFn } from '../../src/sampleattention/studies/near-lossless';
import { generateGreedy } from '../../src/model/generate';
import type { HeadResult } from '../../src/sampleattention/spec/setting';
import { evalCommand, type EvalReport } from '../../cli/eval';
import { PARITY_DIR } from '../helpers/parity';

const DIR = join(PARITY_DIR, 'llama3');
const TEXT = join(DIR, 'text.txt');
// Same mask, different kernels (sparse vs flash): logits differ by f32 summation order only
// (relative ~1e-6 on this model, see model-sample.test.ts), so KL is ~1e-10; 1e-6 leaves room.
const KL_FULL_MASK = 1e-6;

test('eval on the llama3 fixture: full mask gives KL ~ 0 and top-1 agreement 1; a sparse mask moves the outputs', async () => {
  const s = await openSession(DIR, TEXT, 64);
  const c = s.checkpoint.config;
  const shape = { heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim };
  const fwd: ForwardFn = (ids, o) => forward(s.model, ids, o);
  const gen: GenerateFn = async (ids, steps, attention) => (await generateGreedy(s.model, ids, steps, { attention })).tokens;
  try {
    const ids = s.ids;
    assert.ok(ids.length >= 16 && ids.length <= 64, `fixture text gives ${ids.length} tokens`);
    const dense = await fwd(ids, { logits: 'all' });
    const layers: HeadResult[][] = [];
    const full = await fwd(ids, { logits: 'all', attention: sampleAttentionOverride(s.ctx, shape, { alpha: 0.95, rowRatio: 0.05, windowRatio: 1 }, (l, h) => (layers[l] = h)) });
    const cmp = compareLogits(dense.logits, full.logits, ids, c.vocabSize);
    assert.ok(cmp.meanKl < KL_FULL_MASK, `full mask: mean KL ${cmp.meanKl}`);
    assert.equal(cmp.top1Agreement, 1);
    // Perplexities: same logits up to f32 rounding; 1e-5 relative.
    assert.ok(Math.abs(cmp.pplChangePct) < 1e-3, `full mask: perplexity change ${cmp.pplChangePct}%`);
    const sum = summarizeSelections(layers);
    assert.equal(sum.perLayer.length, c.numLayers);
    // Full mask: density exactly 1; recall 1 up to the f32 lse of the measures kernel.
    assert.equal(sum.density, 1);
    assert.ok(Math.abs(sum.recallMean - 1) < 1e-5, `full mask recall ${sum.recallMean}`);

    const sparseLayers: HeadResult[][] = [];
    const sparse = await fwd(ids, { logits: 'all', attention: sampleAttentionOverride(s.ctx, shape, { alpha: 0.5, rowRatio: 0.05, windowRatio: 0.05 }, (l, h) => (sparseLayers[l] = h)) });
    const cmp2 = compareLogits(dense.logits, sparse.logits, ids, c.vocabSize);
    assert.ok(cmp2.meanKl > 1e-4, `a sparse mask must change a random model's outputs: KL ${cmp2.meanKl}`);
    const sum2 = summarizeSelections(sparseLayers);
    assert.ok(sum2.density < 1 && sum2.recallMean < 1 && sum2.recallMean > 0, `sparse: density ${sum2.density}, recall ${sum2.recallMean}`);

    // Greedy continuation (KV cache) must start with the arg-max of the full logits' last row.
    const steps = await gen(ids, 2);
    let best = 0;
    const off = (ids.length - 1) * c.vocabSize;
    for (let v = 1; v < c.vocabSize; v++) if (dense.logits[off + v] > dense.logits[off + best]) best = v;
    assert.equal(steps[0], best);

    // Passkey with the full mask: dense and sparse continue identically.
    const pk = await passkeyCase(gen, s.checkpoint.tokenizer, 200, 0.5, 7, () => sampleAttentionOverride(s.ctx, shape, { alpha: 0.95, rowRatio: 0.05, windowRatio: 1 }));
    assert.ok(pk.tokens <= 200 && pk.tokens > 0, `passkey prompt of ${pk.tokens} tokens`);
    assert.equal(pk.agree, true, `full mask continuations differ: ${JSON.stringify(pk.dense.continuation)} vs ${JSON.stringify(pk.sparse.continuation)}`);
    assert.equal(pk.dense.retrieved, pk.sparse.retrieved);
  } finally {
    s.model.dispose();
  }
});

test('sa-studio eval --json on the llama3 fixture with windowRatio 1', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sa-eval-')), 'eval.json');
  const log = console.log;
  let printed = '';
  console.log = (x: unknown) => { printed += String(x) + '\n'; };
  let rc: number;
  try {
    rc = await evalCommand(['--model', DIR, '--text', TEXT, TEXT, '--max-tokens', '40', '--window-ratio', '1', '--passkey-lengths', '200', '--passkey-depths', '0.5', '--json', out]);
  } finally {
    console.log = log;
  }
  assert.equal(rc, 0);
  const r = JSON.parse(readFileSync(out, 'utf8')) as EvalReport;
  assert.equal(r.texts.length, 2);
  for (const t of r.texts) {
    assert.equal(t.tokens, 40);
    assert.ok(t.meanKl < KL_FULL_MASK, `mean KL ${t.meanKl}`);
    assert.equal(t.top1Agreement, 1);
    assert.equal(t.selection.density, 1);
  }
  assert.equal(r.passkey.length, 1);
  assert.equal(r.passkeyAccuracy!.agreement, 1);
  assert.match(printed, /top-1 agree/);
  assert.match(printed, /passkey retrieval/);
});
