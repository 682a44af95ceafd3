// Greedy generation with the KV cache (src/model/generate.ts) on the default model: each decode
// step's logits equal a full forward's last-position logits over the prompt and the tokens so far
// (the re-prefill that defines greedy decoding) up to f32 summation order, and so the tokens are
// the re-prefill's. Kept to 3 new tokens: each full forward of the default model takes 10-30 s on
// SwiftShader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSession } from '../../cli/session';
import { REPO_ROOT } from '../../cli/model-dir';
import { forward } from '../../src/model/forward';
import { argmax } from '../../src/model/metrics';
import { generateGreedy } from '../../src/model/generate';
import { relError } from '../helpers/gpu';

const TEXT = join(REPO_ROOT, 'public/texts/studio-intro.txt');
const PROMPT_TOKENS = 24;
const NEW_TOKENS = 3;
// Same math, different kernels (flash tiles vs the split decode kernel, the tiled matmul vs the
// one-row kernel): f32 summation order only, measured ~5e-7 relative through the 8 layers; 1e-4
// leaves margin while a wrong position, a missing or stale cache row (O(1e-2) and up) fails.
const LOGITS_TOL = 1e-4;

test(`the default model: KV-cache greedy generation matches the re-prefill's logits and ${NEW_TOKENS} tokens`, async () => {
  const s = await openSession('default', TEXT, PROMPT_TOKENS);
  try {
    const ids = s.ids;
    assert.equal(ids.length, PROMPT_TOKENS);
    const stepLogits: Float32Array[] = [];
    const got = await generateGreedy(s.model, ids, NEW_TOKENS, { onLogits: (l, i) => (stepLogits[i] = l) });
    assert.equal(got.tokens.length, NEW_TOKENS);
    // Token 0 comes from the prefill itself; tokens 1 .. from decode steps, each checked against
    // forward over the prompt and the tokens before it.
    for (let i = 1; i < NEW_TOKENS; i++) {
      const full = await forward(s.model, Int32Array.from([...ids, ...got.tokens.slice(0, i)]), { logits: 'last' });
      const e = relError(stepLogits[i], full.logits);
      assert.ok(e < LOGITS_TOL, `token ${i}: decode-step logits vs full forward, relative error ${e}`);
      assert.equal(got.tokens[i], argmax(full.logits, 0, s.checkpoint.config.vocabSize), `token ${i}`);
      console.log(`token ${i}: decode step vs full forward, relative logit error ${e.toExponential(2)}`);
    }
  } finally {
    s.model.dispose();
  }
});
