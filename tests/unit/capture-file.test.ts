// The capture file reader and its limit, on the CPU: CaptureFile reads the layer (or the first T
// rows) a writeSafetensors file holds, refuses a wrong file, a shape mix and a non-finite value by
// name; guardCaptureLayer refuses a layer whose q does not fit one buffer, naming the numbers and
// the largest S that fits, and lets that S through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeSafetensors } from '../../src/model/loader/safetensors-format';
import { CaptureFile, blobSource, captureIdentity, toModelLayers } from '../../src/sampleattention/formats/capture-file';
import { QkFileError } from '../../src/sampleattention/formats/qk-file';
import { guardCaptureLayer, maxCaptureTokens } from '../../src/model/memory-plan';
import { LimitError } from '../../gpu/errors';

const MiB = 2 ** 20;
const H = 3, KV = 1, S = 7, D = 5; // awkward sizes
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 0.37));

function file(layers: number[], meta?: Record<string, string>, tweak?: (name: string, x: Float32Array) => void): Blob {
  const list = layers.flatMap((l) => ['q', 'k', 'v'].map((t) => {
    const x = values((t === 'q' ? H : KV) * S * D, l * 10 + t.charCodeAt(0));
    tweak?.(`${t}.${l}`, x);
    return { name: `${t}.${l}`, dtype: 'F32' as const, shape: [t === 'q' ? H : KV, S, D], data: x };
  }));
  return new Blob([new Uint8Array(writeSafetensors(list, meta))]);
}

test('CaptureFile: layers in model order, each read exactly; the first T rows of each head', async () => {
  const cf = await CaptureFile.open(blobSource(file([3, 5], { model_name: 'm', family: 'qwen2', num_layers: '8' })), 'c.safetensors');
  assert.deepEqual([cf.info.layers, cf.info.heads, cf.info.kvHeads, cf.info.headDim, cf.info.S, cf.info.hasV, cf.info.ids], [[3, 5], H, KV, D, S, true, undefined]);
  assert.equal(cf.info.layerBytes, 4 * S * D * (H + 2 * KV));
  const x = await cf.readLayer(1, { v: true });
  assert.deepEqual(x.q, values(H * S * D, 5 * 10 + 'q'.charCodeAt(0)));
  assert.deepEqual(x.v, values(KV * S * D, 5 * 10 + 'v'.charCodeAt(0)));
  const T = 3;
  const p = await cf.readLayer(0, { tokens: T });
  const q = values(H * S * D, 3 * 10 + 'q'.charCodeAt(0));
  for (let h = 0; h < H; h++) assert.deepEqual(p.q.subarray(h * T * D, (h + 1) * T * D), q.subarray(h * S * D, h * S * D + T * D));
  assert.deepEqual(captureIdentity(cf.info), { name: 'm', family: 'qwen2', layers: 8, heads: H, kvHeads: KV, headDim: D });
  assert.deepEqual(toModelLayers(cf.info.layers, 8, ['a', 'b'], (l) => `d${l}`), ['d0', 'd1', 'd2', 'a', 'd4', 'b', 'd6', 'd7']);
  // Layers 3 and 5 without num_layers: the model's size is unknown, and the message says how to give it.
  const bare = await CaptureFile.open(blobSource(file([3, 5])), 'bare.safetensors');
  assert.throws(() => captureIdentity(bare.info), (e: Error) => e instanceof QkFileError && /model_name.*--model-name.*family.*--family.*num_layers.*layers 3, 5.*--num-layers/.test(e.message));
});

test('CaptureFile: a non-capture, a truncated file and a NaN are QkFileErrors naming the file and tensor', async () => {
  const bad = async (b: Blob, re: RegExp, name = 'x.safetensors') => assert.rejects(CaptureFile.open(blobSource(b), name), (e: Error) => e instanceof QkFileError && re.test(e.message));
  await bad(new Blob([new Uint8Array(writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: [1, 2] }]))]), /x\.safetensors: no tensor named q\.<layer>.*found: w/);
  const whole = new Uint8Array(await file([0]).arrayBuffer());
  await bad(new Blob([whole.subarray(0, whole.length - 4)]), /x\.safetensors.*(past the end|truncated)/);
  await bad(new Blob([whole.subarray(0, 5)]), /only 5 bytes/);
  const nan = await CaptureFile.open(blobSource(file([0], undefined, (n, x) => { if (n === 'k.0') x[2 * D + 1] = NaN; })), 'nan.safetensors');
  await assert.rejects(nan.readLayer(0), (e: Error & { tensor?: string }) => e instanceof QkFileError && e.tensor === 'k.0' && /"k\.0" head 0 token 2 holds NaN/.test(e.message));
});

test('guardCaptureLayer: a q past one buffer is a LimitError with the numbers and the largest S; that S passes', () => {
  const limits = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB };
  const c = { S: 65536, heads: 32, kvHeads: 8, headDim: 128, hasV: true };
  assert.throws(() => guardCaptureLayer(c, limits, 'big.safetensors'), (e: Error) => e instanceof LimitError && e.need === 2 ** 30 && e.limit === 128 * MiB
    && /big\.safetensors: one layer's q \(65536 tokens x 32 heads x d 128, f32\) needs a 1024\.0 MiB GPU buffer, more than this adapter's 128\.0 MiB per buffer.*at most 8192 tokens/.test(e.message));
  assert.equal(maxCaptureTokens(c, limits), 8192);
  assert.equal(guardCaptureLayer({ ...c, S: 8192 }, limits, 'ok').largest, 128 * MiB);
});
