// Issue 16, part 2 on the command line: `tune|rivals|maps --qk CAPTURE` on a capture the real writer
// (`sa-studio capture`) made of the tiny llama3 fixture (2 layers, 4 heads, 2 kv heads, d 16) at
// 48 tokens. The capture holds the forward pass's own q/k/v, so tune --qk must write the very config
// tune --model writes on the same text, and rivals --qk the very curves (same study code, only the
// source of the layer tensors differs). The file reader reads rows exactly; a truncated or wrong
// file, missing metadata and a layer past the limits end in a named one-line error, exit 2.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { fileSource } from '../../cli/capture-input';
import { CaptureFile, captureIdentity } from '../../src/sampleattention/formats/capture-file';
import { parseQkSafetensors } from '../../src/sampleattention/formats/qk-file';
import { writeSafetensors } from '../../src/model/loader/safetensors-format';
import { parseConfig } from '../../src/sampleattention/formats/config-file';
import { PARITY_DIR } from '../helpers/parity';

const DIR = join(PARITY_DIR, 'llama3');
const TEXT = join(DIR, 'text.txt');
const tmp = mkdtempSync(join(tmpdir(), 'sa-capture-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CAP = join(tmp, 'cap.safetensors');
const GRID = ['--alphas', '0.9', '--row-ratios', '0.1', '--window-ratios', '0,0.08'];

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error, write = process.stderr.write;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  process.stderr.write = (() => true) as typeof process.stderr.write; // progress lines
  try {
    return { status: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('sa-studio capture writes the model identity and the text; CaptureFile reads each layer exactly, and the first T rows', async () => {
  assert.equal((await cli(['capture', '--model', DIR, '--text', TEXT, '--max-tokens', '48', '--out', CAP])).status, 0);
  const bytes = new Uint8Array(readFileSync(CAP));
  const src = fileSource(CAP);
  try {
    const cf = await CaptureFile.open(src, CAP);
    const i = cf.info;
    assert.deepEqual([i.layers, i.heads, i.kvHeads, i.headDim, i.S, i.hasV], [[0, 1], 4, 2, 16, 48, true]);
    assert.equal(i.ids?.length, 48);
    assert.equal(i.model.family, 'llama');
    assert.equal(i.model.numLayers, 2);
    assert.equal(i.text, readFileSync(TEXT, 'utf8'));
    assert.deepEqual(captureIdentity(i), { name: i.model.name, family: 'llama', layers: 2, heads: 4, kvHeads: 2, headDim: 16 });
    for (const l of [0, 1]) {
      const whole = parseQkSafetensors(bytes, CAP, l);
      const x = await cf.readLayer(l, { v: true });
      assert.deepEqual([x.q, x.k, x.v], [whole.q, whole.k, whole.v]);
      // The first 20 rows of every head: the head's block of rows 0..19.
      const T = 20, d = 16;
      const p = await cf.readLayer(l, { tokens: T });
      assert.equal(p.v, undefined);
      for (let h = 0; h < 4; h++) assert.deepEqual(p.q.subarray(h * T * d, (h + 1) * T * d), whole.q.subarray(h * 48 * d, h * 48 * d + T * d), `layer ${l} q head ${h}`);
      for (let g = 0; g < 2; g++) assert.deepEqual(p.k.subarray(g * T * d, (g + 1) * T * d), whole.k.subarray(g * 48 * d, g * 48 * d + T * d), `layer ${l} k head ${g}`);
    }
  } finally {
    src.close();
  }
});

test('tune --qk writes the config tune --model writes on the same text', async () => {
  const a = join(tmp, 'model.json'), b = join(tmp, 'qk.json');
  const m = await cli(['tune', '--model', DIR, '--text', TEXT, '--max-tokens', '48', '--target-recall', '0.9', '--out', a, ...GRID]);
  assert.equal(m.status, 0, m.err);
  const q = await cli(['tune', '--qk', CAP, '--target-recall', '0.9', '--out', b, ...GRID]);
  assert.equal(q.status, 0, q.err);
  const ca = parseConfig(readFileSync(a, 'utf8')), cb = parseConfig(readFileSync(b, 'utf8'));
  assert.deepEqual(cb, ca);
  assert.ok(cb.layers.every((l) => l.heads.every((h) => h.measured)), 'every captured head is measured');
  // The density table is the same too.
  assert.equal(q.out.split('\n').slice(1).join('\n'), m.out.split('\n').slice(1).join('\n'));
});

test('rivals --qk gives the curves rivals --model gives; maps --qk the measures', async () => {
  const a = join(tmp, 'rivals-model.json'), b = join(tmp, 'rivals-qk.json');
  const flags = ['--layers', '1', '--heads', '0,3', '--max-tokens', '40'];
  assert.equal((await cli(['rivals', '--model', DIR, '--text', TEXT, ...flags, '--json', a])).status, 0);
  const r = await cli(['rivals', '--qk', CAP, ...flags, '--json', b]);
  assert.equal(r.status, 0, r.err);
  const ra = JSON.parse(readFileSync(a, 'utf8')), rb = JSON.parse(readFileSync(b, 'utf8'));
  assert.equal(rb.tokens, 40);
  assert.deepEqual(rb.head_curves, ra.head_curves);
  assert.deepEqual(rb.model_curves, ra.model_curves);

  const ma = join(tmp, 'maps-model'), mb = join(tmp, 'maps-qk');
  assert.equal((await cli(['maps', '--model', DIR, '--text', TEXT, '--max-tokens', '48', '--out', ma])).status, 0);
  const mq = await cli(['maps', '--qk', CAP, '--out', mb, '--heads', '1:2']);
  assert.equal(mq.status, 0, mq.err);
  const sa = JSON.parse(readFileSync(join(ma, 'summary.json'), 'utf8')), sb = JSON.parse(readFileSync(join(mb, 'summary.json'), 'utf8'));
  assert.deepEqual(sb.layers, sa.layers);
  assert.ok(readFileSync(join(mb, 'layer1-head2.png')).length > 100);
});

test('a truncated or wrong capture, missing metadata and a layer past the limits: one named line, exit 2', async () => {
  const bytes = readFileSync(CAP);
  const cut = join(tmp, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
  const t = await cli(['tune', '--qk', cut, '--target-recall', '0.9', '--out', join(tmp, 'x.json')]);
  assert.equal(t.status, 2);
  assert.match(t.err, /cut\.safetensors.*(truncated|past the end)/);
  assert.equal(t.err.split('\n').length, 1);

  // A checkpoint is safetensors but no capture.
  const w = await cli(['rivals', '--qk', join(DIR, 'model.safetensors')]);
  assert.equal(w.status, 2);
  assert.match(w.err, /QkFile|no tensor named q\.<layer>/);

  const none = await cli(['tune', '--qk', join(tmp, 'absent.safetensors'), '--target-recall', '0.9', '--out', join(tmp, 'x.json')]);
  assert.equal(none.status, 2);
  assert.match(none.err, /absent\.safetensors.*no such file/);

  // Without metadata the config's model cannot be named: say which keys and flags.
  const bare = join(tmp, 'bare.safetensors');
  const one = parseQkSafetensors(new Uint8Array(bytes), CAP, 0);
  writeFileSync(bare, writeSafetensors([{ name: 'q.0', dtype: 'F32', shape: [4, 48, 16], data: one.q }, { name: 'k.0', dtype: 'F32', shape: [2, 48, 16], data: one.k }]));
  const m = await cli(['tune', '--qk', bare, '--target-recall', '0.9', '--out', join(tmp, 'x.json'), ...GRID]);
  assert.equal(m.status, 2);
  assert.match(m.err, /model_name.*--model-name.*family.*--family/);
  const ok = await cli(['tune', '--qk', bare, '--model-name', 'hand', '--family', 'llama', '--target-recall', '0.9', '--out', join(tmp, 'bare.json'), ...GRID]);
  assert.equal(ok.status, 0, ok.err);
  assert.equal(parseConfig(readFileSync(join(tmp, 'bare.json'), 'utf8')).model.name, 'hand');

  // --qk with --model is a usage error.
  assert.equal((await cli(['rivals', '--qk', CAP, '--model', DIR])).status, 2);

  // A budget of 32 KiB: one layer (q/k/v 24 KiB + the run's 29 KiB) does not fit; the numbers are named.
  const lim = await cli(['maps', '--qk', CAP, '--out', join(tmp, 'lim')], { SA_STUDIO_GPU_BUDGET_MIB: '0.03125' });
  assert.equal(lim.status, 2);
  assert.match(lim.err, /one layer \(48 tokens x 4 heads x d 16\) needs about 53\.3 KiB on the GPU .* more than the 32\.0 KiB budget\. Either capture fewer tokens \(at most 28:/);
  // At --max-tokens 28 it fits.
  assert.equal((await cli(['maps', '--qk', CAP, '--max-tokens', '28', '--out', join(tmp, 'lim')], { SA_STUDIO_GPU_BUDGET_MIB: '0.03125' })).status, 0);
});
