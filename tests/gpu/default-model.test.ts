// Issue 3's bar, through the project's own path (loader, tokenizer, WebGPU forward): the bundled
// default model scores well under 2.5 bits per byte on the held-out 2.8 KB English text. PyTorch
// measured 1.3612 at training time (second generation, 32K; WebGPU here gives the same 1.3612);
// the bound 1.6 allows f32-vs-PyTorch differences (below 1e-4 on the H100 and here) while catching any broken weight, tokenizer or kernel, which sends
// the figure towards log2(8192) / 3 bytes per token, about 4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSession } from '../../cli/session';
import { measurePerplexity } from '../../cli/perplexity';
import { REPO_ROOT } from '../../cli/model-dir';

test('the default model: held-out 2.8 KB prose under 1.6 bits per byte on WebGPU', async () => {
  const s = await openSession('default', join(REPO_ROOT, 'public/texts/prose-2k-nodejs-technical-values.md'), undefined, true);
  try {
    const r = await measurePerplexity(s, 4096);
    assert.equal(r.tokens, 808, 'every token of the text is predicted once (BOS prepended)');
    assert.ok(r.bosPrepended);
    assert.ok(Number.isFinite(r.bitsPerByte) && r.bitsPerByte < 1.6, `bits per byte ${r.bitsPerByte}`);
    console.log(`default model: ${r.bitsPerByte.toFixed(4)} bits per byte, perplexity ${r.perplexity.toFixed(2)} (${s.adapter})`);
  } finally {
    s.model.dispose();
  }
});
