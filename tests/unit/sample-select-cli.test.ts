// `sa-studio select` (cli/select.ts): the JSON it writes equals the float64 reference per head,
// with grouped-query heads, and every bad input gets a clear message and a non-zero status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectCommand, type CommandIo } from '../../cli/select';
import { encodeQkSafetensors } from '../../src/sampleattention/formats/qk-file';
import { kvHeadOf, selectHead } from '../../src/sampleattention/spec/reference';
import { writeSafetensors } from '../../src/model/loader/safetensors-format';
import { freshSeed, randn, rng } from '../helpers/gpu';

function capture(): CommandIo & { err: string[]; out: string[] } {
  const err: string[] = [], out: string[] = [];
  return { err, out, stderr: (l) => err.push(l), stdout: (l) => out.push(l) };
}

const dir = mkdtempSync(join(tmpdir(), 'sa-select-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function writeQk(name: string, heads: number, kvHeads: number, S: number, d: number, seed: number, withV = false) {
  const r = rng(seed);
  const q = randn(r, heads * S * d), k = randn(r, kvHeads * S * d), v = withV ? randn(r, kvHeads * S * d) : undefined;
  const path = join(dir, name);
  writeFileSync(path, encodeQkSafetensors({ q, k, v, heads, kvHeads, S, d }));
  return { path, q, k, v };
}

test('select writes, per head, exactly what selectHead computes on that head and its kv head', async () => {
  const seed = freshSeed();
  const heads = 6, kvHeads = 2, S = 37, d = 24;
  const { path, q, k } = writeQk('qk.safetensors', heads, kvHeads, S, d, seed);
  const outPath = join(dir, 'sel.json');
  const io = capture();
  const code = await selectCommand(['--qk', path, '--alpha', '0.9', '--row-ratio', '0.1', '--window-ratio', '0.05', '--out', outPath], io);
  assert.equal(code, 0, `seed ${seed}: ${io.err.join('\n')}`);
  const json = JSON.parse(readFileSync(outPath, 'utf8'));
  assert.equal(json.S, S);
  assert.equal(json.d, d);
  assert.equal(json.numHeads, heads);
  assert.equal(json.numKvHeads, kvHeads);
  assert.deepEqual(json.params, { alpha: 0.9, rowRatio: 0.1, windowRatio: 0.05 });
  assert.equal(json.heads.length, heads);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    const want = selectHead(q.subarray(h * S * d, (h + 1) * S * d), k.subarray(g * S * d, (g + 1) * S * d), S, d, json.params, { head: h });
    assert.deepEqual(json.heads[h], JSON.parse(JSON.stringify(want)), `seed ${seed} head ${h}`);
  }
  // One progress line per head on stderr.
  assert.equal(io.err.filter((l) => /head \d+\/6:/.test(l)).length, heads);
});

test('select uses the default parameters when the ratio flags are left out, and adds outputError when the file has v', async () => {
  const seed = freshSeed();
  const S = 29, d = 8;
  const { path, q, k, v } = writeQk('qkv.safetensors', 2, 1, S, d, seed, true);
  const outPath = join(dir, 'sel-default.json');
  const io = capture();
  assert.equal(await selectCommand(['--qk', path, '--out', outPath], io), 0, io.err.join('\n'));
  const json = JSON.parse(readFileSync(outPath, 'utf8'));
  assert.deepEqual(json.params, { alpha: 0.95, rowRatio: 0.05, windowRatio: 0.08 });
  const want = selectHead(q.subarray(S * d), k, S, d, json.params, { head: 1, v });
  assert.equal(typeof json.heads[1].outputError, 'number');
  assert.deepEqual(json.heads[1], JSON.parse(JSON.stringify(want)), `seed ${seed}`);
});

test('select --help prints every flag', async () => {
  const io = capture();
  assert.equal(await selectCommand(['--help'], io), 0);
  for (const f of ['--qk', '--alpha', '--row-ratio', '--window-ratio', '--out']) assert.ok(io.out.join('\n').includes(f), f);
});

test('select refuses bad flags and bad files with a message that says what is wrong', async () => {
  const ok = writeQk('ok.safetensors', 2, 1, 5, 3, 1).path;
  const out = join(dir, 'never.json');
  const file = (name: string, tensors: Parameters<typeof writeSafetensors>[0]) => {
    const p = join(dir, name);
    writeFileSync(p, writeSafetensors(tensors));
    return p;
  };
  const f32 = (n: number) => new Float32Array(n).fill(0.5);
  const cases: [string, string[], number, RegExp][] = [
    ['missing --qk', ['--out', out], 2, /--qk is required/],
    ['missing --out', ['--qk', ok], 2, /--out is required/],
    ['alpha out of range', ['--qk', ok, '--out', out, '--alpha', '1.7'], 2, /--alpha 1\.7 is outside \(0, 1\]/],
    ['alpha zero', ['--qk', ok, '--out', out, '--alpha', '0'], 2, /--alpha 0 is outside \(0, 1\]/],
    ['row ratio out of range', ['--qk', ok, '--out', out, '--row-ratio', '2'], 2, /--row-ratio 2 is outside \(0, 1\]/],
    ['window ratio negative', ['--qk', ok, '--out', out, '--window-ratio', '-0.5'], 2, /--window-ratio -0\.5 is outside \[0, 1\]/],
    ['not a number', ['--qk', ok, '--out', out, '--alpha', 'high'], 2, /--alpha must be a number/],
    ['unknown flag', ['--qk', ok, '--out', out, '--beta', '1'], 2, /unknown flag --beta/],
    ['no such file', ['--qk', join(dir, 'nope.safetensors'), '--out', out], 2, /--qk .*nope\.safetensors: cannot read it \(no such file\)/],
    ['missing k', ['--qk', file('no-k.safetensors', [{ name: 'q', dtype: 'F32', shape: [1, 2, 2], data: f32(4) }]), '--out', out], 2, /no tensor named "k".*found: q/],
    ['missing q', ['--qk', file('no-q.safetensors', [{ name: 'k', dtype: 'F32', shape: [1, 2, 2], data: f32(4) }]), '--out', out], 2, /no tensor named "q"/],
    ['F16 q', ['--qk', file('f16.safetensors', [{ name: 'q', dtype: 'F16', shape: [1, 2, 2], data: f32(4) }, { name: 'k', dtype: 'F32', shape: [1, 2, 2], data: f32(4) }]), '--out', out], 2, /"q" has dtype F16; select needs F32/],
    ['rank-2 k', ['--qk', file('rank2.safetensors', [{ name: 'q', dtype: 'F32', shape: [1, 2, 2], data: f32(4) }, { name: 'k', dtype: 'F32', shape: [2, 2], data: f32(4) }]), '--out', out], 2, /"k" has shape \[2, 2\] \(rank 2\); it must be rank 3/],
    ['heads not a multiple', ['--qk', file('gqa.safetensors', [{ name: 'q', dtype: 'F32', shape: [3, 2, 2], data: f32(12) }, { name: 'k', dtype: 'F32', shape: [2, 2, 2], data: f32(8) }]), '--out', out], 2, /3 heads and k has 2 kv heads; heads must be a multiple/],
    ['S mismatch', ['--qk', file('s.safetensors', [{ name: 'q', dtype: 'F32', shape: [1, 3, 2], data: f32(6) }, { name: 'k', dtype: 'F32', shape: [1, 2, 2], data: f32(4) }]), '--out', out], 2, /S and d must match/],
    ['d mismatch', ['--qk', file('d.safetensors', [{ name: 'q', dtype: 'F32', shape: [1, 2, 3], data: f32(6) }, { name: 'k', dtype: 'F32', shape: [1, 2, 2], data: f32(4) }]), '--out', out], 2, /S and d must match/],
    ['NaN in q', ['--qk', file('nan.safetensors', [{ name: 'q', dtype: 'F32', shape: [1, 2, 2], data: Float32Array.of(1, NaN, 0, 0) }, { name: 'k', dtype: 'F32', shape: [1, 2, 2], data: f32(4) }]), '--out', out], 2, /"q" element 1 is NaN/],
  ];
  const garbage = join(dir, 'garbage.safetensors');
  writeFileSync(garbage, new Uint8Array([1, 2, 3]));
  cases.push(['not safetensors', ['--qk', garbage, '--out', out], 2, /too short for a safetensors file/]);
  for (const [what, argv, status, message] of cases) {
    const io = capture();
    assert.equal(await selectCommand(argv, io), status, `${what}: ${io.err.join('\n')}`);
    assert.match(io.err.join('\n'), message, what);
  }
  assert.throws(() => readFileSync(out), 'no output file is written on any error');
});

test('select --layer L reads q.L / k.L of a capture file, and a capture file without --layer says so', async () => {
  const seed = freshSeed();
  const r = rng(seed);
  const heads = 4, kvHeads = 2, S = 23, d = 8;
  const q1 = randn(r, heads * S * d), k1 = randn(r, kvHeads * S * d);
  const path = join(dir, 'capture.safetensors');
  writeFileSync(path, writeSafetensors([
    { name: 'q.0', dtype: 'F32', shape: [heads, S, d], data: randn(r, heads * S * d) },
    { name: 'k.0', dtype: 'F32', shape: [kvHeads, S, d], data: randn(r, kvHeads * S * d) },
    { name: 'q.1', dtype: 'F32', shape: [heads, S, d], data: q1 },
    { name: 'k.1', dtype: 'F32', shape: [kvHeads, S, d], data: k1 },
  ]));
  const outPath = join(dir, 'sel-layer.json');
  const io = capture();
  assert.equal(await selectCommand(['--qk', path, '--layer', '1', '--out', outPath], io), 0, io.err.join('\n'));
  const json = JSON.parse(readFileSync(outPath, 'utf8'));
  const want = selectHead(q1.subarray(3 * S * d, 4 * S * d), k1.subarray(S * d, 2 * S * d), S, d, json.params, { head: 3 });
  assert.deepEqual(json.heads[3], JSON.parse(JSON.stringify(want)), `seed ${seed}`);
  const io2 = capture();
  assert.equal(await selectCommand(['--qk', path, '--out', outPath], io2), 2);
  assert.match(io2.err.join('\n'), /no tensor named "q".*pass --layer L/);
});

test('select --layer reads one layer of a capture past 2 GiB (a sparse file), where reading it whole fails', async () => {
  // tools/capture writes captures of tens of GiB; Node reads no file over 2 GiB whole
  // (ERR_FS_FILE_TOO_LARGE). The file: q.0, k.0 of a small layer, then a 2.1 GiB F32 "pad" that
  // is never written (a hole: no disk used). Only the header and layer 0's bytes are read.
  const seed = freshSeed();
  const r = rng(seed);
  const heads = 2, kvHeads = 1, S = 19, d = 4;
  const q = randn(r, heads * S * d), k = randn(r, kvHeads * S * d);
  const padValues = 2 ** 29 + 2 ** 25; // F32 values: 2.125 GiB
  const qb = q.byteLength, kb = k.byteLength;
  let json = JSON.stringify({
    'q.0': { dtype: 'F32', shape: [heads, S, d], data_offsets: [0, qb] },
    'k.0': { dtype: 'F32', shape: [kvHeads, S, d], data_offsets: [qb, qb + kb] },
    pad: { dtype: 'F32', shape: [padValues], data_offsets: [qb + kb, qb + kb + 4 * padValues] },
  });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const path = join(dir, 'huge-capture.safetensors');
  const head = new Uint8Array(8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  head.set(new TextEncoder().encode(json), 8);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, new Uint8Array(q.buffer));
    writeSync(fd, new Uint8Array(k.buffer));
    ftruncateSync(fd, head.length + qb + kb + 4 * padValues);
  } finally {
    closeSync(fd);
  }
  assert.ok(statSync(path).size > 2 ** 31, 'the file is past 2 GiB');
  const outPath = join(dir, 'sel-huge.json');
  const io = capture();
  assert.equal(await selectCommand(['--qk', path, '--layer', '0', '--out', outPath], io), 0, io.err.join('\n'));
  const json0 = JSON.parse(readFileSync(outPath, 'utf8'));
  const want = selectHead(q.subarray(S * d, 2 * S * d), k, S, d, json0.params, { head: 1 });
  assert.deepEqual(json0.heads[1], JSON.parse(JSON.stringify(want)), `seed ${seed}`);
  // A layer it does not hold is named with the ones it does; without --layer the size is the reason.
  const io2 = capture();
  assert.equal(await selectCommand(['--qk', path, '--layer', '3', '--out', outPath], io2), 2);
  assert.match(io2.err.join('\n'), /no tensor named "q\.3": the capture holds model layer\(s\) 0; pass one of them as --layer/);
  const io3 = capture();
  assert.equal(await selectCommand(['--qk', path, '--out', outPath], io3), 2);
  assert.match(io3.err.join('\n'), /over 2 GiB, too large to read whole; a capture .* with --layer L is read one layer at a time/);
  rmSync(path);
});
