#!/usr/bin/env node
// Ours (src/model/loader/tokenizer/) beside @huggingface/tokenizers: parity on every tokenizer
// fixture, encode speed on a 500 KB text, and bundle size. Prints Markdown.
//   node --import tsx scripts/tokenizer-compare.mjs [--runs N] [--no-speed] [--no-bundle]
// Parity: tests/helpers/tokenizer-compare.ts (the same cases tokenizer-hf-compare.test.ts checks).
// Speed: public/texts/* concatenated (sorted by name) and repeated to 500,000 characters;
// encode with special tokens, median of N runs after one warm-up, both in this process, one after
// the other per tokenizer. Bundle: esbuild --bundle --minify (ESM, browser) of a one-line entry
// that re-exports each one's loader, then gzip -9.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { allFixtures, hf, ours, repoPath, run } from '../tests/helpers/tokenizer-compare.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 7;
const readJson = (rel) => JSON.parse(readFileSync(repoPath(rel), 'utf8'));

// --- parity
console.log('## Parity\n');
console.log('| fixture | expected from | ours | @huggingface/tokenizers | first failing case (hf) |');
console.log('| --- | --- | --- | --- | --- |');
const cell = (r) => (r.error ? `throws: ${r.error.replace(/\|/g, '\\|')}` : r.idsOk === r.total && r.decodeOk === r.total ? `yes (${r.total}/${r.total})` : `**no**: ids ${r.idsOk}/${r.total}, decode ${r.decodeOk}/${r.total}`);
for (const fx of allFixtures()) {
  let ref;
  try {
    ref = ours(readJson(fx.file));
  } catch {
    ref = undefined;
  }
  const o = run(fx, ours, ref);
  const h = run(fx, hf, ref);
  console.log(`| ${fx.name} | ${fx.source} | ${cell(o)} | ${cell(h)} | ${(h.firstFailure ?? '').replace(/\|/g, '\\|')} |`);
}

// --- speed
if (!args.includes('--no-speed')) {
  const samples = readdirSync(repoPath('public/texts/')).sort().map((f) => readFileSync(repoPath(`public/texts/${f}`), 'utf8'));
  let text = '';
  while (text.length < 500_000) text += samples.join('\n');
  text = text.slice(0, 500_000);
  const bytes = new TextEncoder().encode(text).length;
  console.log(`\n## Encode speed: ${text.length} characters (${(bytes / 1024).toFixed(0)} KiB UTF-8), median of ${runs} runs, node ${process.version}\n`);
  console.log('| tokenizer | tokens | ours ms | @huggingface/tokenizers ms | hf / ours | same ids | load ms (ours / hf) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const time = (f) => {
    const t0 = performance.now();
    const r = f();
    return [performance.now() - t0, r];
  };
  for (const file of ['tests/fixtures/parity/gpt2/tokenizer.json', 'tests/fixtures/parity/llama2/tokenizer.json', 'tests/fixtures/parity/llama3/tokenizer.json', 'tests/fixtures/parity/qwen2/tokenizer.json', 'public/models/default/tokenizer.json']) {
    const json = readJson(file);
    const [loadO, o] = time(() => ours(structuredClone(json)));
    const [loadH, h] = time(() => hf(structuredClone(json)));
    const idsO = o.encode(text, true); // warm-up
    const idsH = h.encode(text, true);
    const tO = [], tH = [];
    for (let i = 0; i < runs; i++) {
      tO.push(time(() => o.encode(text, true))[0]);
      tH.push(time(() => h.encode(text, true))[0]);
    }
    const mO = median(tO), mH = median(tH);
    const same = idsO.length === idsH.length && idsO.every((x, i) => x === idsH[i]);
    const name = file.replace(/^(tests\/fixtures\/|public\/models\/)|\/tokenizer\.json$/g, '');
    console.log(`| ${name} | ${idsO.length} | ${mO.toFixed(0)} | ${mH.toFixed(0)} | ${(mH / mO).toFixed(2)} | ${same ? 'yes' : 'no'} | ${loadO.toFixed(0)} / ${loadH.toFixed(0)} |`);
  }
}

// --- bundle size
if (!args.includes('--no-bundle')) {
  console.log('\n## Bundle (esbuild --bundle --minify, ESM, browser; gzip -9)\n');
  console.log('| entry | minified KB | gzip KB |');
  console.log('| --- | --- | --- |');
  const entries = {
    'ours: `export { loadTokenizer } from src/model/loader/tokenizer/tokenizer`': "export { loadTokenizer } from './src/model/loader/tokenizer/tokenizer.ts';",
    "@huggingface/tokenizers: `export { Tokenizer } from '@huggingface/tokenizers'`": "export { Tokenizer } from '@huggingface/tokenizers';",
  };
  for (const [name, contents] of Object.entries(entries)) {
    const r = await build({ stdin: { contents, resolveDir: repoPath('.').pathname, loader: 'ts' }, bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error' });
    const js = r.outputFiles[0].contents;
    console.log(`| ${name} | ${(js.length / 1000).toFixed(1)} | ${(gzipSync(js, { level: 9 }).length / 1000).toFixed(1)} |`);
  }
}
