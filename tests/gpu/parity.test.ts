// Parity with transformers: each family's random checkpoint (tests/fixtures/parity, made on the
// device by tools/parity/make_fixtures.py with eager float32 attention on the CPU) runs through
// the same path as `sa-studio run` (loader -> tokenizer -> buildModel -> forward) on WebGPU, with
// both config.json key styles. Targets (issue 2): token ids identical, logits relative Frobenius
// error <= 1e-4, attention maps max abs error <= 1e-4. f32 GPU arithmetic against a float32
// PyTorch reference lands near 1e-6 on these sizes; 1e-4 leaves room for summation order only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { memoryFiles } from '../../src/model/loader/files';
import { buildModel, forward } from '../../src/model/forward';
import { gpu, assertFinite, maxAbsError, relError } from '../helpers/gpu';
import { PARITY_DIR, PARITY_FIXTURES, fixtureText, readReference } from '../helpers/parity';

function folderWith(name: string, configFile: string) {
  const dir = join(PARITY_DIR, name);
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(dir)) if (f !== 'reference.safetensors') files[f] = new Uint8Array(readFileSync(join(dir, f)));
  files['config.json'] = files[configFile];
  return memoryFiles(`${name} (${configFile})`, files);
}

for (const name of PARITY_FIXTURES) {
  for (const configFile of ['config.json', 'config.legacy.json']) {
    test(`${name} with ${configFile}: ids, logits and attention match transformers`, async () => {
      const ctx = await gpu();
      const ref = readReference(name);
      const ckpt = await loadCheckpoint(folderWith(name, configFile));
      const ids = Int32Array.from(ckpt.tokenizer.encode(fixtureText(name, 'text.txt'))).slice(0, ref.inputIds.length);
      assert.deepEqual(Array.from(ids), Array.from(ref.inputIds), 'token ids');
      const model = buildModel(ctx, ckpt.config, ckpt.weights);
      try {
        const out = await forward(model, ids, { captureAttention: true });
        assertFinite(out.logits, 'logits');
        const e = relError(out.logits, ref.logits);
        assert.ok(e <= 1e-4, `logits relative Frobenius error ${e.toExponential(2)} > 1e-4`);
        assert.equal(out.attn?.length, ref.attn.length, 'one attention map per layer');
        ref.attn.forEach((want, l) => {
          const got = out.attn![l];
          assertFinite(got, `attn.${l}`);
          const m = maxAbsError(got, want);
          assert.ok(m <= 1e-4, `attn.${l} max abs error ${m.toExponential(2)} > 1e-4`);
        });
        console.log(`${name} ${configFile}: logits rel err ${e.toExponential(2)}`);
      } finally {
        model.dispose();
      }
    });
  }
}
