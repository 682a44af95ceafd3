// `sa-studio select --variant blocks` (cli/select.ts, cli/select-blocks.ts, cli/variant-flags.ts):
// the JSON it writes equals the float64 `blocks` reference per head, with grouped-query heads;
// bad flags, and flags of the other variant, are usage errors (exit 2) naming the flag; the
// `tokens` default is unchanged (tests/unit/sample-select-cli.test.ts covers it in full).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectCommand, type CommandIo } from '../../cli/select';
import { encodeQkSafetensors } from '../../src/sampleattention/formats/qk-file';
import { selectHead } from '../../src/sampleattention/spec/reference';
import { selectHeadBlocks } from '../../src/sampleattention/spec/blocks/reference';
import { freshSeed, randn, rng } from '../helpers/gpu';

function capture(): CommandIo & { err: string[]; out: string[] } {
  const err: string[] = [], out: string[] = [];
  return { err, out, stderr: (l) => err.push(l), stdout: (l) => out.push(l) };
}

const dir = mkdtempSync(join(tmpdir(), 'sa-select-blocks-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function writeQk(name: string, heads: number, kvHeads: number, S: number, d: number, seed: number, withV = false) {
  const r = rng(seed);
  const q = randn(r, heads * S * d, 2), k = randn(r, kvHeads * S * d, 2), v = withV ? randn(r, kvHeads * S * d) : undefined;
  const path = join(dir, name);
  writeFileSync(path, encodeQkSafetensors({ q, k, v, heads, kvHeads, S, d }));
  return { path, q, k, v };
}

const HEAD_FIELDS = ['head', 'blockSize', 'sampledRows', 'columnBlocks', 'slashBands', 'recallMean', 'recallMin', 'recallP5', 'density', 'stage1ColumnEstimate', 'stage1SlashEstimate'];

test('select --variant blocks writes, per head, exactly what selectHeadBlocks computes on that head and its kv head', async () => {
  const seed = freshSeed();
  const heads = 6, kvHeads = 3, S = 43, d = 12; // S not a multiple of b = 8; 3 segments of 14-15 rows
  const { path, q, k } = writeQk('qk.safetensors', heads, kvHeads, S, d, seed);
  const outPath = join(dir, 'sel.json');
  const io = capture();
  const argv = ['--qk', path, '--variant', 'blocks', '--block-size', '8', '--alpha-column', '0.9', '--alpha-slash', '0.8', '--row-ratio', '0.5', '--out', outPath];
  const code = await selectCommand(argv, io);
  assert.equal(code, 0, `seed ${seed}: ${io.err.join('\n')}`);
  const json = JSON.parse(readFileSync(outPath, 'utf8'));
  assert.equal(json.S, S);
  assert.equal(json.d, d);
  assert.equal(json.numHeads, heads);
  assert.equal(json.numKvHeads, kvHeads);
  assert.equal(json.variant, 'blocks');
  assert.deepEqual(json.params, { blockSize: 8, alphaColumn: 0.9, alphaSlash: 0.8, rowRatio: 0.5 });
  assert.equal(json.heads.length, heads);
  for (let h = 0; h < heads; h++) {
    assert.deepEqual(Object.keys(json.heads[h]), HEAD_FIELDS, `head ${h}: the fields the issue names, in its order`);
    const g = Math.floor(h / (heads / kvHeads));
    const want = selectHeadBlocks(q.subarray(h * S * d, (h + 1) * S * d), k.subarray(g * S * d, (g + 1) * S * d), S, d, json.params, { head: h });
    assert.deepEqual(json.heads[h], JSON.parse(JSON.stringify(want)), `seed ${seed} head ${h}`);
    for (const key of ['columnBlocks', 'slashBands', 'sampledRows']) {
      const xs: number[] = json.heads[h][key];
      for (let t = 1; t < xs.length; t++) assert.ok(xs[t] > xs[t - 1], `head ${h} ${key} ascending`);
    }
  }
  assert.equal(io.err.filter((l) => /head \d+\/6: \d+ column blocks, \d+ slash bands/.test(l)).length, heads);
});

test('select --variant blocks uses the spec defaults when its flags are left out (S < b: one block, every row sampled), and adds outputError when the file has v', async () => {
  const seed = freshSeed();
  const S = 29, d = 8;
  const { path, q, k, v } = writeQk('qkv.safetensors', 2, 1, S, d, seed, true);
  const outPath = join(dir, 'sel-default.json');
  const io = capture();
  assert.equal(await selectCommand(['--qk', path, '--variant', 'blocks', '--out', outPath], io), 0, io.err.join('\n'));
  const json = JSON.parse(readFileSync(outPath, 'utf8'));
  assert.deepEqual(json.params, { blockSize: 128, alphaColumn: 0.95, alphaSlash: 0.95, rowRatio: 0.05 });
  const want = selectHeadBlocks(q.subarray(S * d), k, S, d, json.params, { head: 1, v });
  assert.equal(typeof json.heads[1].outputError, 'number');
  assert.deepEqual(json.heads[1], JSON.parse(JSON.stringify(want)), `seed ${seed}`);
  assert.equal(json.heads[1].sampledRows.length, S);
  assert.deepEqual(json.heads[1].columnBlocks, [0]);
  assert.deepEqual(json.heads[1].slashBands, [0]);
  assert.equal(json.heads[1].density, 1);
});

test('select --variant tokens (and no --variant) writes the tokens output, with no variant field', async () => {
  const seed = freshSeed();
  const S = 31, d = 6;
  const { path, q, k } = writeQk('qk-tokens.safetensors', 2, 2, S, d, seed);
  const texts: string[] = [];
  for (const variant of [[], ['--variant', 'tokens']]) {
    const outPath = join(dir, `sel-tokens-${variant.length}.json`);
    const io = capture();
    assert.equal(await selectCommand(['--qk', path, ...variant, '--alpha', '0.8', '--row-ratio', '0.2', '--window-ratio', '0.1', '--out', outPath], io), 0, io.err.join('\n'));
    texts.push(readFileSync(outPath, 'utf8'));
  }
  assert.equal(texts[0], texts[1]);
  const json = JSON.parse(texts[0]);
  assert.deepEqual(Object.keys(json), ['S', 'd', 'numHeads', 'numKvHeads', 'scale', 'params', 'heads']);
  const want = selectHead(q.subarray(S * d), k.subarray(S * d), S, d, { alpha: 0.8, rowRatio: 0.2, windowRatio: 0.1 }, { head: 1 });
  assert.deepEqual(json.heads[1], JSON.parse(JSON.stringify(want)), `seed ${seed}`);
});

test('select --help lists the variant flags', async () => {
  const io = capture();
  assert.equal(await selectCommand(['--help'], io), 0);
  for (const f of ['--variant', '--block-size', '--alpha-column', '--alpha-slash', '--row-ratio']) assert.ok(io.out.join('\n').includes(f), f);
});

test('select refuses bad variant flags, and flags of the other variant, with exit 2 and a message naming the flag', async () => {
  const ok = writeQk('ok.safetensors', 2, 1, 5, 3, 1).path;
  const out = join(dir, 'never.json');
  const B = ['--qk', ok, '--out', out, '--variant', 'blocks'];
  const T = ['--qk', ok, '--out', out];
  const cases: [string, string[], RegExp][] = [
    ['unknown variant', [...T, '--variant', 'stripes'], /--variant must be one of tokens, blocks, got "stripes"/],
    ['block size zero', [...B, '--block-size', '0'], /--block-size 0 is not an integer in \[1, 65536\]/],
    ['block size fractional', [...B, '--block-size', '12.5'], /--block-size 12\.5 is not an integer in \[1, 65536\]/],
    ['block size too large', [...B, '--block-size', '100000'], /--block-size 100000 is not an integer in \[1, 65536\]/],
    ['alpha-column zero', [...B, '--alpha-column', '0'], /--alpha-column 0 is outside \(0, 1\]/],
    ['alpha-column above 1', [...B, '--alpha-column', '1.01'], /--alpha-column 1\.01 is outside \(0, 1\]/],
    ['alpha-slash negative', [...B, '--alpha-slash', '-0.5'], /--alpha-slash -0\.5 is outside \(0, 1\]/],
    ['row-ratio above 1', [...B, '--row-ratio', '3'], /--row-ratio 3 is outside \(0, 1\]/],
    ['alpha-slash not a number', [...B, '--alpha-slash', 'most'], /--alpha-slash must be a number/],
    ['--alpha with blocks', [...B, '--alpha', '0.9'], /--alpha is a flag of --variant tokens; --variant blocks takes --block-size, --alpha-column, --alpha-slash, --row-ratio/],
    ['--window-ratio with blocks', [...B, '--window-ratio', '0.1'], /--window-ratio is a flag of --variant tokens/],
    ['--block-size with tokens (default)', [...T, '--block-size', '16'], /--block-size is a flag of --variant blocks; --variant tokens takes --alpha, --window-ratio, --row-ratio/],
    ['--alpha-slash with --variant tokens', [...T, '--variant', 'tokens', '--alpha-slash', '0.9'], /--alpha-slash is a flag of --variant blocks/],
  ];
  for (const [what, argv, message] of cases) {
    const io = capture();
    assert.equal(await selectCommand(argv, io), 2, `${what}: ${io.err.join('\n')}`);
    assert.match(io.err.join('\n'), message, what);
    assert.match(io.err.join('\n'), /^select: /, what);
  }
  assert.throws(() => readFileSync(out), 'no output file is written on any error');
});
