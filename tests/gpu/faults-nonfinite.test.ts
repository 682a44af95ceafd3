// Numbers that are not numbers (issue 17, item 5), on the tiny llama3 parity fixture (2 layers,
// hidden 64) and 5 tokens, so SwiftShader runs it in seconds:
// - a checkpoint whose weights are finite but overflow in layer 1's MLP: forward() throws a
//   NonFiniteActivationError naming layer 1, the MLP block (not a normal result);
// - the unmodified model runs without a false alarm;
// - `sa-studio run` on that model, and on a checkpoint with one NaN weight, exits 2 with one line
//   on stderr naming the layer / the tensor, and prints no result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { writeSafetensors, type TensorToWrite } from '../../src/model/loader/safetensors-format';
import { buildModel, forward } from '../../src/model/forward';
import type { HostTensor, WeightSource } from '../../src/model/config';
import { NonFiniteActivationError } from '../../gpu/errors';
import { main } from '../../cli/main';
import { gpu } from '../helpers/gpu';
import { PARITY_DIR } from '../helpers/parity';

const DIR = join(PARITY_DIR, 'llama3');
const IDS = Int32Array.from([1, 17, 42, 99, 7]);

function f32Tensor(name: string, shape: number[], values: Float32Array): HostTensor {
  return { name, dtype: 'F32', shape, bytes: new Uint8Array(values.buffer) };
}

/** The fixture's weights with `edit` applied to some tensors (by name). */
function edited(w: WeightSource, edit: Record<string, (v: Float32Array) => void>): WeightSource {
  return {
    names: () => w.names(),
    has: (n) => w.has(n),
    get(n) {
      const t = w.get(n);
      if (!edit[n]) return t;
      const v = new Float32Array(t.bytes.slice().buffer);
      edit[n](v);
      return f32Tensor(n, t.shape, v);
    },
  };
}

// Finite weights that overflow f32 in layer 1's MLP: its norm weight 1e3 makes gate/up ~1e3, so
// act ~1e6, and down_proj weights of 3e38 (finite; f32 max is 3.4e38) turn every product into inf.
const OVERFLOW = {
  'model.layers.1.post_attention_layernorm.weight': (v: Float32Array) => v.fill(1e3),
  'model.layers.1.mlp.down_proj.weight': (v: Float32Array) => v.fill(3e38),
};

async function captured(fn: () => Promise<number>): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { status: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

function writeCheckpoint(dir: string, w: WeightSource): void {
  const tensors: TensorToWrite[] = w.names().map((n) => {
    const t = w.get(n);
    return { name: n, dtype: 'F32', shape: t.shape, data: new Float32Array(t.bytes.slice().buffer) };
  });
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
  copyFileSync(join(DIR, 'config.json'), join(dir, 'config.json'));
  copyFileSync(join(DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
}

test('an activation that overflows is named with its layer and pass; a finite model raises nothing', async () => {
  const ctx = await gpu();
  const ck = await loadCheckpoint(nodeFolder(DIR));
  const good = buildModel(ctx, ck.config, ck.weights);
  try {
    const r = await forward(good, IDS, { logits: 'all' });
    assert.equal(r.logits.length, IDS.length * ck.config.vocabSize);
  } finally {
    good.dispose();
  }
  const bad = buildModel(ctx, ck.config, edited(ck.weights, OVERFLOW)); // the weights are finite: builds
  try {
    for (const logits of ['all', 'last', 'none'] as const) {
      await assert.rejects(forward(bad, IDS, { logits }), (e: unknown) => {
        assert.ok(e instanceof NonFiniteActivationError, `logits ${logits}: ${e}`);
        assert.equal(e.layer, 1, e.message);
        assert.equal(e.pass, 'mlp', e.message);
        assert.match(e.message, /first appear in the residual after layer 1 \(of 2\), mlp block/);
        return true;
      });
    }
  } finally {
    bad.dispose();
  }
});

test('sa-studio run: a model that overflows and a checkpoint with a NaN weight exit 2 with one line and no result', async () => {
  const ck = await loadCheckpoint(nodeFolder(DIR));
  const text = join(DIR, 'text.txt');

  const over = mkdtempSync(join(tmpdir(), 'sa-overflow-'));
  writeCheckpoint(over, edited(ck.weights, OVERFLOW));
  const a = await captured(() => main(['run', '--model', over, '--text', text, '--max-tokens', '5']));
  assert.equal(a.status, 2, a.err.join('\n'));
  assert.equal(a.err.length, 1, a.err.join('\n'));
  assert.match(a.err[0], /^sa-studio run: The forward pass produced NaN or infinite values: they first appear in the residual after layer 1 \(of 2\), mlp block/);
  assert.ok(!a.out.some((l) => /prefill/.test(l)), `no result printed: ${a.out.join('\n')}`);

  const nan = mkdtempSync(join(tmpdir(), 'sa-nan-'));
  writeCheckpoint(nan, edited(ck.weights, { 'model.layers.0.self_attn.v_proj.weight': (v) => { v[70] = NaN; } }));
  const b = await captured(() => main(['run', '--model', nan, '--text', text, '--max-tokens', '5']));
  assert.equal(b.status, 2, b.err.join('\n'));
  assert.equal(b.err.length, 1, b.err.join('\n'));
  // v_proj is (32, 64): flat 70 is [1, 6].
  assert.match(b.err[0], /^sa-studio run: Tensor "model\.layers\.0\.self_attn\.v_proj\.weight" in \/tmp\/sa-nan-\w+\/model\.safetensors holds 1 non-finite value: element \[1, 6\] \(flat 70\) is NaN\. /);
  assert.ok(!b.out.some((l) => /prefill/.test(l)), `no result printed: ${b.out.join('\n')}`);
  for (const d of [over, nan]) rmSync(d, { recursive: true, force: true });
});
