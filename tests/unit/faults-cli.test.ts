// Issue 17 on the command line, all before the GPU is needed (CPU only): every broken checkpoint
// of item 1, every broken per-head config of item 2 and a text past the model's context (item 7)
// ends in exit code 2 and ONE line on stderr naming the file and the tensor or key (no stack
// trace), within seconds; NaN weights and weights over the adapter's limits are named (items 5, 7);
// the XDG_RUNTIME_DIR fix of item 6.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { ensureXdgRuntimeDir } from '../../gpu/node-gpu';
import { parseSafetensors, writeSafetensors } from '../../src/model/loader/safetensors-format';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { memoryFiles } from '../../src/model/loader/files';
import { planWeights } from '../../src/model/weight-plan';
import { checkFiniteWeight, checkWeightsFit, loadSpec } from '../../src/model/build';
import { buildConfig, serializeConfig, ConfigError } from '../../src/sampleattention/formats/config-file';
import { checkConfigFits } from '../../src/sampleattention/formats/config-file';
import { CheckpointError, InputError, LimitError, NonFiniteWeightError, oneLine } from '../../gpu/errors';
import { createTensor } from '../../gpu/tensor';
import type { GpuContext } from '../../gpu/device';
import { PARITY_DIR } from '../helpers/parity';

const SRC = join(PARITY_DIR, 'llama3');
const TEXT = join(SRC, 'text.txt');
const root = mkdtempSync(join(tmpdir(), 'sa-faults-'));
after(() => rmSync(root, { recursive: true, force: true }));
const read = (f: string) => new Uint8Array(readFileSync(join(SRC, f)));

async function captured(argv: string[]): Promise<{ status: number; err: string[]; out: string[]; ms: number }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error, write = process.stderr.write;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  // Progress lines ("loading ...") go to process.stderr.write; keep them apart from the errors.
  process.stderr.write = (() => true) as typeof process.stderr.write;
  const t0 = performance.now();
  try {
    const status = await main(argv);
    return { status, err, out, ms: performance.now() - t0 };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

/** A copy of the llama3 fixture with some files replaced (undefined: removed). */
function folder(name: string, files: Record<string, Uint8Array | string | undefined>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) if (!(f in files)) copyFileSync(join(SRC, f), join(dir, f));
  for (const [f, v] of Object.entries(files)) if (v !== undefined) writeFileSync(join(dir, f), v);
  return dir;
}

const weights = read('model.safetensors');
const header = parseSafetensors(weights, 'model.safetensors');
const headerLen = header.dataStart - 8;
const config = JSON.parse(readFileSync(join(SRC, 'config.json'), 'utf8'));
const tok = readFileSync(join(SRC, 'tokenizer.json'), 'utf8');

/** A safetensors file with its header JSON replaced (padded/cut to the same length is not needed: the length is rewritten). */
function withHeader(json: string): Uint8Array {
  const h = new TextEncoder().encode(json);
  const data = weights.subarray(header.dataStart);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
const headerJson = JSON.parse(new TextDecoder().decode(weights.subarray(8, header.dataStart)));

function shards(): Record<string, Uint8Array | string | undefined> {
  const names = header.entries.map((e) => e.name);
  const half = Math.ceil(names.length / 2);
  const tensors = header.entries.map((e) => ({ name: e.name, dtype: 'F32' as const, shape: e.shape, data: weights.slice(header.dataStart + e.begin, header.dataStart + e.end) }));
  const a = 'model-00001-of-00002.safetensors', b = 'model-00002-of-00002.safetensors';
  const weight_map = Object.fromEntries(names.map((n, i) => [n, i < half ? a : b]));
  return { 'model.safetensors': undefined, [a]: writeSafetensors(tensors.slice(0, half)), 'model.safetensors.index.json': JSON.stringify({ weight_map }) };
}

const shapeBad = { ...headerJson };
// model.layers.0.mlp.up_proj.weight is (112, 64): say (64, 112), same byte count, so only the shape check can catch it.
shapeBad['model.layers.0.mlp.up_proj.weight'] = { ...headerJson['model.layers.0.mlp.up_proj.weight'], shape: [64, 112] };
const pastEnd = { ...headerJson };
const last = header.entries.reduce((a, e) => (e.end > a.end ? e : a));
pastEnd[last.name] = { ...headerJson[last.name], data_offsets: [last.begin + 4096, last.end + 4096] };

const BROKEN_CHECKPOINTS: [string, Record<string, Uint8Array | string | undefined>, RegExp][] = [
  ['truncated weights', { 'model.safetensors': weights.subarray(0, weights.length - 1000) }, /model\.safetensors: tensor model\.[\w.]+: .*truncated.*download it again/i],
  ['absurd header length', { 'model.safetensors': (() => { const b = weights.slice(); new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true); return b; })() }, /model\.safetensors: header length \d+ bytes is over the 100000000-byte limit.*Download it again/],
  ['header length past the end', { 'model.safetensors': (() => { const b = weights.slice(); new DataView(b.buffer).setBigUint64(0, BigInt(weights.length), true); return b; })() }, /model\.safetensors: header says \d+ bytes of JSON but the file has only \d+ bytes/],
  ['header not JSON', { 'model.safetensors': (() => { const b = weights.slice(); b.fill(0x7b, 8, 8 + headerLen); return b; })() }, /model\.safetensors: the safetensors header is not valid UTF-8 JSON/],
  ['offsets past the end', { 'model.safetensors': withHeader(JSON.stringify(pastEnd)) }, /model\.safetensors: tensor [\w.]+: data_offsets \[\d+, \d+\] run past the end of the data/],
  ['shape disagrees with config.json', { 'model.safetensors': withHeader(JSON.stringify(shapeBad)) }, /Tensor "model\.layers\.0\.mlp\.up_proj\.weight" \(blocks\.0\.mlp\.up\.weight\) has shape \(64, 112\); the config expects \(112, 64\).*model\.safetensors/],
  ['config.json not JSON', { 'config.json': '{"model_type": "llama", "hidden_size": 6' }, /config\.json is not valid JSON: .*download it again/],
  ['config.json lacks a key', { 'config.json': JSON.stringify({ ...config, intermediate_size: undefined }) }, /config\.json: "intermediate_size" is missing; it must be a positive integer/],
  ['config.json names an unsupported architecture', { 'config.json': JSON.stringify({ ...config, model_type: 'bert', architectures: ['BertModel'] }) }, /config\.json: model_type "bert" is not supported\. Supported model types: llama, mistral, qwen2, qwen3, gpt2 \(this config names architectures \["BertModel"\]\)/],
  ['truncated tokenizer.json', { 'tokenizer.json': tok.slice(0, tok.length >> 1) }, /tokenizer\.json is not valid JSON: .*download it again/],
  ['index names a missing shard', shards(), /model\.safetensors\.index\.json lists shard model-00002-of-00002\.safetensors but it is missing \(it holds e\.g\. tensor model\.[\w.]+\)\. Download every shard/],
  ['no weights at all', { 'model.safetensors': undefined }, /no weights in safetensors format \(model\.safetensors or model\.safetensors\.index\.json\)/],
];

test('every broken checkpoint: exit 2, one line on stderr naming the file and the tensor or key, in seconds', async () => {
  for (const [what, files, re] of BROKEN_CHECKPOINTS) {
    const dir = folder(what.replace(/\W+/g, '-'), files);
    const r = await captured(['run', '--model', dir, '--text', TEXT, '--max-tokens', '8']);
    assert.equal(r.status, 2, `${what}: ${r.err.join('\n')}`);
    assert.equal(r.err.length, 1, `${what}: one line: ${JSON.stringify(r.err)}`);
    const line = r.err[0];
    assert.ok(!line.includes('\n') && !/\n\s+at /.test(line), `${what}: no stack trace`);
    assert.match(line, /^sa-studio run: /, what);
    assert.match(line, re, what);
    assert.ok(line.includes(dir), `${what}: names the folder: ${line}`);
    assert.ok(r.ms < 5000, `${what}: ${r.ms.toFixed(0)} ms`);
    assert.equal(r.out.length, 0, `${what}: no result printed`);
  }
});

test('the library throws CheckpointErrors with file and tensor/key fields', async () => {
  const mem = (files: Record<string, Uint8Array | string | undefined>) => {
    const all: Record<string, Uint8Array | string> = { 'config.json': JSON.stringify(config), 'tokenizer.json': tok, 'model.safetensors': weights };
    for (const [k, v] of Object.entries(files)) if (v === undefined) delete all[k]; else all[k] = v;
    return memoryFiles('ck', all);
  };
  const load = async (files: Record<string, Uint8Array | string | undefined>) => {
    const ck = await loadCheckpoint(mem(files));
    planWeights(ck.config, ck.weights);
  };
  const err = async (files: Record<string, Uint8Array | string | undefined>): Promise<CheckpointError> => {
    try {
      await load(files);
    } catch (e) {
      assert.ok(e instanceof CheckpointError, String(e));
      return e;
    }
    throw new Error('expected a CheckpointError');
  };
  let e = await err(BROKEN_CHECKPOINTS[0][1]);
  assert.equal(e.file, 'ck/model.safetensors');
  assert.match(e.tensor ?? '', /^model\./);
  e = await err(BROKEN_CHECKPOINTS[5][1]);
  assert.equal(e.tensor, 'model.layers.0.mlp.up_proj.weight');
  assert.equal(e.file, 'ck/model.safetensors');
  e = await err(BROKEN_CHECKPOINTS[7][1]);
  assert.deepEqual([e.file, e.key], ['ck/config.json', 'intermediate_size']);
  e = await err(BROKEN_CHECKPOINTS[8][1]);
  assert.deepEqual([e.file, e.key], ['ck/config.json', 'model_type']);
  e = await err(BROKEN_CHECKPOINTS[9][1]);
  assert.equal(e.file, 'ck/tokenizer.json');
  e = await err(shards());
  assert.deepEqual([e.file, e.tensor?.startsWith('model.')], ['ck/model-00002-of-00002.safetensors', true]);
});

test('broken per-head configs: eval --config and apply --config exit 2 with the JSON path, before the model loads', async () => {
  const p = { alpha: 0.95, rowRatio: 0.05, windowRatio: 0.08 };
  const model = { name: 'llama3', family: 'llama' as const, layers: 2, heads: 4, kvHeads: 2, headDim: 16 };
  const good = JSON.parse(serializeConfig(buildConfig({ model, text: { tokens: 10 }, defaults: p, params: [[p, p, p, p], [p, p, p, p]] })));
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"version": 1, "model": ', /bad\.json is not a valid SampleAttention config \(docs\/config-schema\.md\): config: not valid JSON/],
    ['not an object', '[1, 2, 3]', /config: \[1,2,3\] is not an object/],
    ['unknown version', JSON.stringify({ ...good, version: 7 }), /: version: 7 is not a version this reader knows \(expected 1 or 2\)/],
    ['parameter out of range', JSON.stringify({ ...good, layers: [good.layers[0], { heads: [good.layers[1].heads[0], { ...p, alpha: 1.7 }, p, p] }] }), /layers\[1\]\.heads\[1\]\.alpha: 1\.7 is outside \(0, 1\]/],
  ];
  for (const [what, body, re] of cases) {
    const file = join(root, 'bad.json');
    writeFileSync(file, body);
    for (const verb of ['eval', 'apply']) {
      // --model is a folder that does not exist: a config error must come first.
      const r = await captured([verb, '--config', file, '--model', join(root, 'no-such-model'), '--text', TEXT]);
      assert.equal(r.status, 2, `${verb} ${what}: ${r.err.join('\n')}`);
      assert.equal(r.err.length, 1, `${verb} ${what}: ${JSON.stringify(r.err)}`);
      assert.match(r.err[0], new RegExp(`^sa-studio ${verb}: `));
      assert.match(r.err[0], re, `${verb} ${what}`);
    }
  }
  const missing = await captured(['apply', '--config', join(root, 'nope.json'), '--model', SRC, '--text', TEXT]);
  assert.equal(missing.status, 2);
  assert.match(missing.err[0], /nope\.json is not readable: config: cannot read the file \(no such file\)/);
  // A model of another shape (checked once the model is open; here directly): the paths are named.
  const other = buildConfig({ model: { ...model, headDim: 32 }, text: { tokens: 10 }, defaults: p, params: [[p, p, p, p], [p, p, p, p]] });
  assert.throws(() => checkConfigFits(other, model, 'wrong.json'), (e: unknown) => {
    assert.ok(e instanceof ConfigError && e instanceof InputError);
    assert.equal(e.key, 'model.headDim');
    assert.match(oneLine(e.message), /^wrong\.json was made for another model \(llama3\) than the open one \(llama3\); tune a config for this model with `sa-studio tune`: model\.headDim: config 32, model 16$/);
    return true;
  });
});

test('a text longer than the model\'s context: every model verb says so with the numbers, exit 2', async () => {
  const long = join(root, 'long.txt');
  writeFileSync(long, 'The quick brown fox jumps over the lazy dog. '.repeat(80)); // well over 256 tokens
  const cfgFile = join(root, 'ok.json');
  const p = { alpha: 0.95, rowRatio: 0.05, windowRatio: 0.08 };
  writeFileSync(cfgFile, serializeConfig(buildConfig({ model: { name: 'llama3', family: 'llama', layers: 2, heads: 4, kvHeads: 2, headDim: 16 }, text: { tokens: 10 }, defaults: p, params: [[p, p, p, p], [p, p, p, p]] })));
  const out = join(root, 'out.bin');
  const verbs: string[][] = [
    ['run'], ['capture', '--out', out], ['maps', '--out', root], ['eval', '--passkey-lengths', 'none'],
    ['tune', '--target-recall', '0.9', '--out', out], ['apply', '--config', cfgFile], ['rivals'], ['generate'],
  ];
  for (const [verb, ...rest] of verbs) {
    const r = await captured([verb, '--model', SRC, '--text', long, ...rest]);
    assert.equal(r.status, 2, `${verb}: ${r.err.join('\n')}`);
    assert.equal(r.err.length, 1, `${verb}: ${JSON.stringify(r.err)}`);
    assert.match(r.err[0], /long\.txt has \d{3,} tokens, more than the model's 256 positions \(max_position_embeddings\): pass --max-tokens 256 or a shorter text\./, verb);
  }
  // (perplexity runs a long text in windows of at most the model's positions.)
});

test('a NaN or infinite weight is named with its tensor, file and element; weights over the adapter limits before upload', async () => {
  const ck = await loadCheckpoint(memoryFiles('ck', { 'config.json': JSON.stringify(config), 'tokenizer.json': tok, 'model.safetensors': weights }));
  const plan = planWeights(ck.config, ck.weights);
  const spec = plan.specs.find((s) => s.name === 'model.layers.1.self_attn.o_proj.weight')!;
  const good = loadSpec(ck.weights, spec);
  assert.equal(good.length, 64 * 64);
  for (const [bad, shown] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
    const data = good.slice();
    data[2 * 64 + 5] = bad;
    data[3 * 64] = bad;
    assert.throws(() => checkFiniteWeight(ck.weights, spec.name, [64, 64], data), (e: unknown) => {
      assert.ok(e instanceof NonFiniteWeightError && e instanceof CheckpointError);
      assert.equal(e.tensor, 'model.layers.1.self_attn.o_proj.weight');
      assert.equal(e.file, 'ck/model.safetensors');
      assert.equal(e.index, 2 * 64 + 5);
      assert.match(e.message, new RegExp(`^Tensor "model\\.layers\\.1\\.self_attn\\.o_proj\\.weight" in ck/model\\.safetensors holds 2 non-finite values: element \\[2, 5\\] \\(flat 133\\) is ${shown.replace('-', '\\-')}\\. `));
      return true;
    });
  }
  // Through loadSpec (the path buildModel takes): an f16 NaN (0x7e00) in a stored tensor.
  const f16 = { names: () => ['w'], has: () => true, get: () => ({ name: 'w', dtype: 'F16' as const, shape: [2, 2], bytes: new Uint8Array(Uint16Array.of(0x3c00, 0x3c00, 0x7e00, 0x3c00).buffer) }) };
  assert.throws(() => loadSpec(f16, { role: 'r', name: 'w', stored: [2, 2], shape: [2, 2], transform: { kind: 'copy' } }), /Tensor "w" holds 1 non-finite value: element \[1, 0\] \(flat 2\) is NaN/);

  // A fake adapter with 1 MiB bindings: the embedding (640 x 64 f32 = 160 KiB) fits, a 4097-vocab one does not.
  const small = { device: { limits: { maxStorageBufferBindingSize: 2 ** 20, maxBufferSize: 2 ** 30 } } } as unknown as GpuContext;
  checkWeightsFit(small, plan.specs, ck.weights);
  const big = plan.specs.map((s) => (s.role === 'embeddings.tokens' ? { ...s, shape: [4097, 64] } : s));
  assert.throws(() => checkWeightsFit(small, big, ck.weights), (e: unknown) => {
    assert.ok(e instanceof LimitError);
    assert.equal(e.need, 4097 * 64 * 4);
    assert.equal(e.limit, 2 ** 20);
    assert.match(e.message, /^Tensor "model\.embed_tokens\.weight" in ck\/model\.safetensors \(4097, 64\) needs 1\.0 MiB as f32 on the GPU, more than this adapter's maxStorageBufferBindingSize \(1\.0 MiB\)/);
    return true;
  });
  // 4096 x 64 x 4 is exactly 1 MiB: it fits.
  checkWeightsFit(small, plan.specs.map((s) => (s.role === 'embeddings.tokens' ? { ...s, shape: [4096, 64] } : s)), ck.weights);
  // Activations (and a capture uploaded to the GPU) go through createTensor, which names both limits.
  const tiny = { device: { limits: { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 20 } } } as unknown as GpuContext;
  assert.throws(() => createTensor(tiny, 'q', [8, 4096, 16]), (e: unknown) => e instanceof LimitError && /Tensor q \(8, 4096, 16\) needs 2\.0 MiB, more than this adapter's 1 MiB buffer size limit \(maxBufferSize\)/.test(e.message));
});

test('XDG_RUNTIME_DIR: unset or invalid becomes a private 0700 folder; a valid one is kept', () => {
  const env: NodeJS.ProcessEnv = {};
  const dir = ensureXdgRuntimeDir(env);
  assert.equal(env.XDG_RUNTIME_DIR, dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(ensureXdgRuntimeDir(env), dir, 'a valid folder is kept');
  const open = mkdtempSync(join(tmpdir(), 'sa-open-'));
  chmodSync(open, 0o755);
  const env2: NodeJS.ProcessEnv = { XDG_RUNTIME_DIR: open };
  const d2 = ensureXdgRuntimeDir(env2);
  assert.notEqual(d2, open, 'a world-readable folder is not a valid runtime dir');
  const env3: NodeJS.ProcessEnv = { XDG_RUNTIME_DIR: '/no/such/dir' };
  const d3 = ensureXdgRuntimeDir(env3);
  assert.notEqual(d3, '/no/such/dir');
  for (const d of [dir, open, d2, d3]) rmSync(d, { recursive: true });
});
