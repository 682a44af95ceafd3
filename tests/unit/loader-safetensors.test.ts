// safetensors: writer/parser round trips (every supported dtype, fresh random data), the 16-bit
// conversions against a brute-force nearest-value search, header/offset validation errors, and
// weights loading (single file, shards, whole-file sources, truncation, progress).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSeed, rng, randn } from '../helpers/gpu';
import {
  bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, toFloat32, toInt32,
} from '../../src/model/loader/dtypes';
import { entryToTensor, parseSafetensors, writeSafetensors, type TensorToWrite } from '../../src/model/loader/safetensors-format';
import { expectTensor, loadSafetensorsWeights } from '../../src/model/loader/safetensors-weights';
import { memoryFiles, type CheckpointFiles } from '../../src/model/loader/files';

const seed = freshSeed();

/** A safetensors file built by hand (not by writeSafetensors), so parser tests do not trust the writer. */
function rawFile(header: unknown, data: Uint8Array, lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(lengthOverride ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function tensorsOf(bytes: Uint8Array, file = 'x.safetensors') {
  const h = parseSafetensors(bytes, file);
  return new Map(h.entries.map((e) => [e.name, entryToTensor(e, bytes.slice(h.dataStart + e.begin, h.dataStart + e.end), file)]));
}

/** Every finite value of a 16-bit format, sorted, for a brute-force nearest search. */
function allFinite(decode: (h: number) => number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let h = 0; h < 65536; h++) {
    const v = decode(h);
    if (Number.isFinite(v) && !Object.is(v, -0)) out.push([v, h]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Nearest representable value, ties to the even bit pattern (IEEE round to nearest even). */
function nearest(table: Array<[number, number]>, x: number): number {
  let lo = 0, hi = table.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid][0] <= x) lo = mid;
    else hi = mid;
  }
  const [a, ha] = table[lo], [b, hb] = table[hi];
  const da = Math.abs(x - a), db = Math.abs(x - b);
  if (da !== db) return da < db ? a : b;
  return (ha & 1) === 0 ? a : b;
}

test('16-bit decoders: known bit patterns', () => {
  // Values fixed by the IEEE binary16 and bfloat16 definitions.
  assert.equal(f16BitsToF32(0x3c00), 1);
  assert.equal(f16BitsToF32(0xc000), -2);
  assert.equal(f16BitsToF32(0x7bff), 65504);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.equal(f16BitsToF32(0x7c00), Infinity);
  assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
  assert.equal(bf16BitsToF32(0x3f80), 1);
  assert.equal(bf16BitsToF32(0xc040), -3);
  assert.equal(bf16BitsToF32(0x0001), 2 ** -133);
});

test(`f32 -> F16/BF16 rounds to nearest even (seed ${seed})`, () => {
  const r = rng(seed);
  const f16 = allFinite(f16BitsToF32);
  const bf16 = allFinite(bf16BitsToF32);
  const xs: number[] = [];
  // Wide magnitudes incl. subnormals, plus exact ties (midpoints between neighbours).
  for (let i = 0; i < 3000; i++) xs.push(Math.fround((r() - 0.5) * 2 ** (Math.floor(r() * 60) - 30)));
  for (let i = 0; i < 200; i++) {
    const k = Math.floor(r() * (f16.length - 1));
    xs.push(Math.fround((f16[k][0] + f16[k + 1][0]) / 2));
  }
  // Zero results must keep the sign of x (-1e-30 rounds to -0), as IEEE conversion does.
  const check = (got: number, x: number, table: Array<[number, number]>, what: string) => {
    if (got === 0) assert.equal(Object.is(got, -0), x < 0, `${what} of ${x}: sign of zero`);
    assert.equal(got === 0 ? 0 : got, nearest(table, x) || 0, `${what} of ${x}`);
  };
  for (const x of xs) {
    if (Math.abs(x) <= 65504) check(f16BitsToF32(f32ToF16Bits(x)), x, f16, 'f16');
    check(bf16BitsToF32(f32ToBf16Bits(x)), x, bf16, 'bf16');
  }
  assert.equal(f32ToF16Bits(1e6), 0x7c00, 'overflow gives +inf');
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
});

test(`writeSafetensors -> parse round trip for every dtype (seed ${seed})`, () => {
  const r = rng(seed + 1);
  const f = randn(r, 7 * 13);
  const ints = Int32Array.from({ length: 11 }, () => Math.floor((r() - 0.5) * 2 ** 31));
  const i64 = BigInt64Array.from({ length: 5 }, () => BigInt(Math.floor((r() - 0.5) * 2 ** 40)));
  const tensors: TensorToWrite[] = [
    { name: 'f32', dtype: 'F32', shape: [7, 13], data: f },
    { name: 'f16', dtype: 'F16', shape: [7, 13], data: f }, // values: converted
    { name: 'bf16', dtype: 'BF16', shape: [13, 7], data: f },
    { name: 'i32', dtype: 'I32', shape: [11], data: ints },
    { name: 'i64', dtype: 'I64', shape: [5, 1], data: i64 },
    { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([3.5]) },
    { name: 'empty', dtype: 'F16', shape: [0, 4], data: new Uint8Array(0) },
  ];
  const bytes = writeSafetensors(tensors, { format: 'pt' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0, 'header padded so data is 8-byte aligned');
  const got = tensorsOf(bytes);
  assert.deepEqual([...got.keys()].sort(), tensors.map((t) => t.name).sort(), '__metadata__ is not a tensor');
  assert.deepEqual(toFloat32(got.get('f32')!), f);
  assert.deepEqual(toFloat32(got.get('f16')!), Float32Array.from(f, (x) => f16BitsToF32(f32ToF16Bits(x))));
  assert.deepEqual(toFloat32(got.get('bf16')!), Float32Array.from(f, (x) => bf16BitsToF32(f32ToBf16Bits(x))));
  assert.deepEqual(toInt32(got.get('i32')!), ints);
  const i64t = got.get('i64')!;
  assert.deepEqual(i64t.shape, [5, 1]);
  assert.deepEqual(new BigInt64Array(i64t.bytes.slice().buffer), i64);
  assert.deepEqual(toFloat32(got.get('scalar')!), new Float32Array([3.5]));
  assert.equal(got.get('empty')!.bytes.length, 0);
  // Raw F16 bytes pass through untouched: little-endian 0x3c00 is 1.0.
  const raw = tensorsOf(writeSafetensors([{ name: 'h', dtype: 'F16', shape: [2], data: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) }]));
  assert.deepEqual(toFloat32(raw.get('h')!), new Float32Array([1, -2]));
});

test('writeSafetensors rejects data of the wrong size and repeated names', () => {
  assert.throws(() => writeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: new Float32Array(2) }]), /tensor a: 8 bytes of data but shape \[3\] of F32 needs 12/);
  assert.throws(() => writeSafetensors([{ name: 'a', dtype: 'F32', shape: [1], data: [1] }, { name: 'a', dtype: 'F32', shape: [1], data: [1] }]), /reserved or repeated/);
});

test('parser errors name the file, the tensor and the problem', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data = new Uint8Array(8);
  assert.doesNotThrow(() => parseSafetensors(rawFile(ok, data), 'w.safetensors'));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['shorter than 8 bytes', new Uint8Array(5), /w\.safetensors: only 5 bytes/],
    ['header past the end', rawFile(ok, data, 5000), /header says 5000 bytes of JSON but the file has only/],
    ['absurd header length', rawFile(ok, data, 2 ** 40), /over the 100000000-byte limit/],
    ['header not JSON', rawFile('{"a": {', data), /not valid UTF-8 JSON/],
    ['header an array', rawFile('[1, 2]', data), /must be a JSON object of tensors, got an array/],
    ['unknown dtype', rawFile({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, data), /tensor a: unknown dtype "Q4"/],
    ['size mismatch', rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), /tensor a: .*span 8 bytes but shape \[3\] of F32 needs 12/],
    ['offsets out of range', rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), /tensor a: data_offsets \[0, 16\] run past the end of the data \(8 bytes\)/],
    ['end before begin', rawFile({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data), /end before begin/],
    ['bad shape', rawFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data), /shape must be a list of non-negative integers/],
    ['overlap', rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [2], data_offsets: [4, 8] } }, data), /tensors a \[0, 8\) and b \[4, 8\) overlap/],
  ];
  for (const [what, bytes, re] of cases) assert.throws(() => parseSafetensors(bytes, 'w.safetensors'), re, what);
});

test('a known but unsupported dtype loads, and get() names the tensor and dtype', async () => {
  const bytes = rawFile({ mask: { dtype: 'BOOL', shape: [4], data_offsets: [0, 4] }, w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8));
  const weights = await loadSafetensorsWeights(memoryFiles('m', { 'model.safetensors': bytes }));
  assert.deepEqual(weights.names(), ['mask', 'w']);
  assert.throws(() => weights.get('mask'), /tensor mask has dtype BOOL, which the studio cannot load \(supported: F32, F16, BF16, I32, I64\)/);
  assert.deepEqual(toFloat32(weights.get('w')), new Float32Array([0]));
});

/** Files without readRange/size: the loader must fall back to whole-file reads. */
function wholeFileOnly(files: CheckpointFiles): CheckpointFiles {
  return { label: files.label, list: files.list, has: files.has, read: files.read };
}

test(`sharded checkpoint through model.safetensors.index.json, with and without range reads (seed ${seed})`, async () => {
  const r = rng(seed + 2);
  const a = randn(r, 3 * 5), b = randn(r, 17), c = randn(r, 2 * 9);
  const shard1 = writeSafetensors([{ name: 'a', dtype: 'F32', shape: [3, 5], data: a }, { name: 'b', dtype: 'BF16', shape: [17], data: b }]);
  const shard2 = writeSafetensors([{ name: 'c', dtype: 'F16', shape: [2, 9], data: c }]);
  const index = JSON.stringify({ metadata: { total_size: 0 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } });
  const files = memoryFiles('ckpt', { 'model.safetensors.index.json': index, 'model-00001-of-00002.safetensors': shard1, 'model-00002-of-00002.safetensors': shard2 });
  for (const src of [files, wholeFileOnly(files)]) {
    const progress: Array<[number, number]> = [];
    const w = await loadSafetensorsWeights(src, (done, total) => progress.push([done, total]));
    assert.deepEqual(w.names(), ['a', 'b', 'c']);
    assert.equal(w.fileOf('c'), 'model-00002-of-00002.safetensors');
    assert.deepEqual(toFloat32(w.get('a')), a);
    assert.deepEqual(toFloat32(w.get('b')), Float32Array.from(b, (x) => bf16BitsToF32(f32ToBf16Bits(x))));
    assert.deepEqual(toFloat32(w.get('c')), Float32Array.from(c, (x) => f16BitsToF32(f32ToF16Bits(x))));
    const total = 15 * 4 + 17 * 2 + 18 * 2;
    assert.equal(w.totalBytes, total);
    assert.ok(progress.length > 0 && progress.every(([d, t], i) => t === total && d <= t && (i === 0 || d >= progress[i - 1][0])), JSON.stringify(progress));
    assert.equal(progress[progress.length - 1][0], total);
    for (const name of ['a', 'b', 'c']) {
      const t = w.get(name);
      assert.equal(t.bytes.byteOffset % 4, 0, `${name} aligned for typed-array views`);
    }
    assert.throws(() => w.get('model.embed_tokens.weight'), /ckpt: tensor model\.embed_tokens\.weight is not in model-00001-of-00002\.safetensors, model-00002-of-00002\.safetensors/);
  }
});

test('shard errors: a missing shard, an index that disagrees, a truncated file', async () => {
  const shard = writeSafetensors([{ name: 'a', dtype: 'F32', shape: [64], data: new Float32Array(64) }]);
  const index = (m: Record<string, string>) => JSON.stringify({ weight_map: m });
  await assert.rejects(
    loadSafetensorsWeights(memoryFiles('ck', { 'model.safetensors.index.json': index({ a: 's1.safetensors', b: 's2.safetensors' }), 's1.safetensors': shard })),
    /ck: model\.safetensors\.index\.json lists shard s2\.safetensors but it is missing/,
  );
  await assert.rejects(
    loadSafetensorsWeights(memoryFiles('ck', { 'model.safetensors.index.json': index({ a: 's1.safetensors', zz: 's1.safetensors' }), 's1.safetensors': shard })),
    /says tensor zz is in s1\.safetensors, but s1\.safetensors has no such tensor/,
  );
  await assert.rejects(loadSafetensorsWeights(memoryFiles('ck', { 'model.safetensors.index.json': '{"weight_map": [1]}' })), /"weight_map" must be an object/);
  const truncated = shard.slice(0, shard.length - 10);
  // With a known size the header check catches it; without one, the short range read does.
  await assert.rejects(loadSafetensorsWeights(memoryFiles('ck', { 'model.safetensors': truncated })), /ck\/model\.safetensors: tensor a: data_offsets \[0, 256\] run past the end of the data/);
  const noSize = memoryFiles('ck', { 'model.safetensors': truncated });
  delete noSize.size;
  await assert.rejects(loadSafetensorsWeights(noSize), /ck\/model\.safetensors: the file is truncated: tensor a needs bytes up to \d+ but the file ends at \d+/);
  await assert.rejects(loadSafetensorsWeights(memoryFiles('ck', { 'pytorch_model.bin': new Uint8Array(4), 'config.json': '{}' })), /no weights in safetensors format .* Found pytorch_model\.bin, which the studio cannot read/);
  await assert.rejects(loadSafetensorsWeights(memoryFiles('ck', { 'a.safetensors': shard, 'b.safetensors': shard })), /no model\.safetensors or model\.safetensors\.index\.json; found a\.safetensors, b\.safetensors\. If one of these holds the model's weights, rename it/);
});

test('expectTensor names the tensor, its file, and the expected shape', async () => {
  const w = await loadSafetensorsWeights(memoryFiles('ck', { 'model.safetensors': writeSafetensors([{ name: 'lm_head.weight', dtype: 'F32', shape: [4, 3], data: new Float32Array(12) }]) }));
  assert.deepEqual(expectTensor(w, 'lm_head.weight', [4, 3]).shape, [4, 3]);
  assert.throws(() => expectTensor(w, 'lm_head.weight', [4, 8]), /Tensor lm_head\.weight in model\.safetensors has shape \[4, 3\], expected \[4, 8\]/);
  assert.throws(() => expectTensor(w, 'lm_head.weight', [4, 3], ['BF16']), /is F32, expected BF16/);
  assert.throws(() => expectTensor(w, 'model.lm_head.weight', [4, 3]), /Similar names: lm_head\.weight/);
});
