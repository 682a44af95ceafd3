// `sa-studio rivals` (cli/rivals.ts) without a GPU: flag validation (bad values are UsageErrors
// that say what is wrong), layer/head ranges, the tables on curves computed from synthetic q/k
// (rivalsStudy, the library's study the verb runs after the forward), and the SVG chart
// (src/render/rivals-svg.ts): well-formed, one path per pattern, no NaN in any coordinate. Both
// SampleAttention variants are rows: sampleattention (tokens) and sampleattention-blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSeed, randn, rng } from '../helpers/gpu';
import { UsageError } from '../../cli/args';
import {
  blocksOperatingPoint, curveRows, DEFAULT_DENSITIES, formatRivals, indexList, operatingPoint, parseRivalsArgs, reportSvg, resolveSelection, rivalOptions, rivalsCommand,
  type RivalsReport,
} from '../../cli/rivals';
import { rivalsSvg } from '../../src/render/rivals-svg';
import { DEFAULT_PARAMS } from '../../src/sampleattention/spec/params';
import { headCurves, recallAtDensity, rivalBlockSize, type RivalCurve } from '../../src/sampleattention/studies/rivals';
import { rivalsStudy, type QKCapture } from '../../src/sampleattention/studies/rivals-study';
import { MInferenceConfigError, parseMInference } from '../../src/sampleattention/formats/minference-file';
import { main } from '../../cli/main';
import { oneLine } from '../../gpu/errors';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const seed = freshSeed();
const base = ['--model', 'default', '--text', 'a.txt'];

function usageError(argv: string[], re: RegExp) {
  assert.throws(() => parseRivalsArgs(argv), (e: unknown) => e instanceof UsageError && re.test((e as Error).message), `argv ${argv.join(' ')}`);
}

test('rivals flags: defaults, lists, ranges', () => {
  const a = parseRivalsArgs(base);
  assert.equal(a.model, 'default');
  assert.equal(a.text, 'a.txt');
  assert.deepEqual(a.densities, DEFAULT_DENSITIES);
  assert.deepEqual(a.params, DEFAULT_PARAMS);
  assert.equal(a.layers, undefined);
  assert.equal(a.heads, undefined);
  assert.equal(a.blockSize, undefined, 'the blocks rival\'s block size follows the text unless given');
  const b = parseRivalsArgs([...base, '--layers', '3,0-1,1', '--heads', ' 2 ', '--densities', '0.5,0.05,0.5', '--alpha', '0.9', '--window-ratio', '0', '--max-tokens', '64', '--json', 'o.json', '--svg', 'o.svg', '--block-size', '16']);
  assert.deepEqual(b.layers, [0, 1, 3]);
  assert.deepEqual(b.heads, [2]);
  assert.deepEqual(b.densities, [0.05, 0.5]);
  assert.deepEqual(b.params, { alpha: 0.9, rowRatio: DEFAULT_PARAMS.rowRatio, windowRatio: 0 });
  assert.equal(b.maxTokens, 64);
  assert.equal(b.json, 'o.json');
  assert.equal(b.svg, 'o.svg');
  assert.equal(b.blockSize, 16);
  assert.deepEqual(indexList('layers', '2-4'), [2, 3, 4]);
});

test('rivals flags: every bad value is a UsageError naming the flag and the fix', () => {
  usageError(['--text', 'a.txt'], /--model is required/);
  usageError(['--model', 'default'], /--text is required/);
  usageError([...base, '--bogus', '1'], /unknown flag --bogus/);
  usageError([...base, '--layers', 'x'], /--layers: "x" is not an index/);
  usageError([...base, '--layers', '-1'], /--layers: "-1" is not an index/);
  usageError([...base, '--layers', '3-1'], /runs backwards; write 1-3/);
  usageError([...base, '--layers', ','], /--layers wants a comma-separated list/);
  usageError([...base, '--heads', '1.5'], /--heads: "1.5" is not an index/);
  usageError([...base, '--densities', '0,0.2'], /^rivals: --densities: 0 is not a density in \(0, 1\]\. Give comma-separated shares of the causal map, e\.g\. --densities 0\.1,0\.2,0\.3,0\.5\.$/);
  usageError([...base, '--densities', '1.5'], /--densities: 1.5 is not a density/);
  usageError([...base, '--densities', 'a'], /--densities: NaN is not a density/);
  usageError([...base, '--alpha', '0'], /--alpha 0 is outside \(0, 1\]/);
  usageError([...base, '--window-ratio', '2'], /--window-ratio 2 is outside \[0, 1\]/);
  usageError([...base, '--max-tokens', '0'], /--max-tokens must be a positive integer, got 0/);
  usageError([...base, '--max-tokens', '2.5'], /--max-tokens must be a positive integer/);
  usageError([...base, '--svg'], /--svg needs a value/);
  usageError([...base, '--block-size', '0'], /^rivals: --block-size 0 is not an integer in \[1, 65536\]\.$/);
  usageError([...base, '--block-size', '2.5'], /--block-size 2\.5 is not an integer/);
});

test('rivals: layers and heads out of the model\'s range are UsageErrors; the default is everything', () => {
  assert.deepEqual(resolveSelection({}, 3, 2), { layers: [0, 1, 2], heads: [0, 1] });
  assert.deepEqual(resolveSelection({ layers: [2], heads: [1] }, 3, 2), { layers: [2], heads: [1] });
  assert.throws(() => resolveSelection({ layers: [1, 3, 5] }, 3, 2), (e: unknown) => e instanceof UsageError && /--layers 3,5 out of range: the model has 3 layers \(0\.\.2\)/.test((e as Error).message));
  assert.throws(() => resolveSelection({ heads: [2] }, 3, 2), (e: unknown) => e instanceof UsageError && /--heads 2 out of range: the model has 2 query heads per layer \(0\.\.1\)/.test((e as Error).message));
});

test('rivals: the operating alpha joins the SampleAttention sweep', () => {
  assert.deepEqual(rivalOptions({ alpha: 0.93, rowRatio: 0.1, windowRatio: 0.02 }).alphas, [0.5, 0.7, 0.8, 0.9, 0.93, 0.95, 0.98, 0.99, 1]);
  assert.deepEqual(rivalOptions(DEFAULT_PARAMS).alphas, [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1]);
});

/** Two layers of 4 query heads on 2 kv heads, with a sink key so the patterns differ. */
function capture(S: number, d: number, s: number): QKCapture {
  const r = rng(s);
  const layer = (n: number, sinkGain: number) => {
    const x = randn(r, n * S * d);
    for (let h = 0; h < n; h++) for (let c = 0; c < d; c++) x[h * S * d + c] *= sinkGain;
    return x;
  };
  return { S, d, numHeads: 4, numKvHeads: 2, q: [layer(4, 1), layer(4, 1)], k: [layer(2, 4), layer(2, 1)] };
}

async function report(perHead: boolean, densities = [0.01, 0.2, 0.5], windowRatio = 0.08): Promise<RivalsReport> {
  const cap = capture(40, 8, seed);
  const params = { alpha: 0.95, rowRatio: 0.1, windowRatio };
  const seen: number[] = [];
  const { of: _, ...part } = await rivalsStudy(cap, [0, 1], perHead ? [1, 3] : [0, 1, 2, 3], params, cap.S, { onLayer: (l, done, of) => seen.push(l * 10 + done * 100 + of) });
  assert.deepEqual(seen, [102, 212], 'one progress call per layer');
  return { model: 'synthetic', text: 'x.txt', params, densities, perHead, ...part };
}

test(`rivalsStudy with a setting per head (the studio's): a blocks head's curve at its own block size, rowRatio and alphas; mixed sizes named in the mean (SEED=${seed})`, async () => {
  const cap = capture(40, 8, seed);
  assert.equal(rivalBlockSize(40), 4, 'the study\'s own block size here');
  const tok = { variant: 'tokens' as const, alpha: 0.93, rowRatio: 0.1, windowRatio: 0.08 };
  const blk = { variant: 'blocks' as const, blockSize: 8, alphaColumn: 0.85, alphaSlash: 0.6, rowRatio: 0.2 };
  const params = [[tok, blk, tok, tok], [tok, tok, tok, tok]];
  const r = await rivalsStudy(cap, [0, 1], [0, 1], params, cap.S);
  const alphas = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.98, 0.99, 1];
  const q = (l: number, h: number) => cap.q[l].subarray(h * 40 * 8, (h + 1) * 40 * 8), k = (l: number, g: number) => cap.k[l].subarray(g * 40 * 8, (g + 1) * 40 * 8);
  const want = {
    // Layer 0 head 1 (blocks): its own block size, rowRatio, alphas; the tokens curve at the tokens defaults.
    '0:1': headCurves(q(0, 1), k(0, 0), 40, 8, { alphas, rowRatio: DEFAULT_PARAMS.rowRatio, windowRatio: DEFAULT_PARAMS.windowRatio, blockSize: 8, blocksRowRatio: 0.2 }),
    // A tokens head: its own tokens parameters, the blocks curve at the study's block size.
    '1:0': headCurves(q(1, 0), k(1, 0), 40, 8, { alphas, rowRatio: 0.1, windowRatio: 0.08, blockSize: rivalBlockSize(40) }),
  };
  for (const [key, w] of Object.entries(want)) {
    const [l, h] = key.split(':').map(Number);
    assert.deepEqual(r.head_curves.find((e) => e.layer === l && e.head === h)!.curves, w, key);
  }
  const knob = (c: RivalCurve[]) => c.find((x) => x.pattern === 'sampleattention-blocks')!.knob;
  assert.match(knob(r.model_curves), /blocks 4, 8, each head's/);
  assert.match(knob(r.layer_curves[1].curves), /\(block \d+\)$/, 'one size in layer 1: its knob as a head\'s');
});

test(`rivals table: rows per pattern, "-" exactly where the curve never gets that sparse, operating point column (SEED=${seed})`, async () => {
  const r = await report(false);
  assert.equal(r.head_curves.length, 8);
  assert.deepEqual(r.head_curves.map((e) => e.kvHead), [0, 0, 1, 1, 0, 0, 1, 1]);
  assert.equal(r.layer_curves.length, 2);
  const text = formatRivals(r);
  const lines = text.split('\n');
  const headIdx = lines.findIndex((l) => l.startsWith('pattern'));
  assert.ok(headIdx > 0, text);
  assert.match(lines[headIdx], /^pattern\s+@0\.01\s+@0\.2\s+@0\.5\s+@SA 0\.\d{3}\s+knob: swept$/);
  assert.match(lines[headIdx + 1], /^-+( +-+)+$/);
  const op = operatingPoint(r.model_curves, 0.95);
  const rows = lines.slice(headIdx + 2, headIdx + 8);
  assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]), ['sampleattention', 'sampleattention-blocks', 'streamingllm', 'vertical-slash', 'block-topk', 'oracle']);
  for (const [p, c] of r.model_curves.entries()) {
    const cells = rows[p].split(/\s{2,}/);
    r.densities.forEach((x, i) => {
      const v = recallAtDensity(c, x);
      assert.equal(cells[1 + i], Number.isNaN(v) ? '-' : v.toFixed(4), `${c.pattern} @${x}`);
    });
    const atOp = c.pattern === 'sampleattention' ? op.recall : recallAtDensity(c, op.density);
    assert.equal(cells[1 + r.densities.length], atOp.toFixed(4), `${c.pattern} at the operating point`);
    assert.match(cells[2 + r.densities.length], /: [\d.]+\.\.[\d.]+$/, 'knob and its range');
  }
  // SampleAttention with windowRatio 0.08 never gets down to density 0.01: "-", explained.
  assert.equal(rows[0].split(/\s{2,}/)[1], '-');
  assert.match(text, /-: the pattern's sweep never gets that sparse.*sampleattention 0\.\d{3}/);
  assert.match(text, /alpha 0\.95/);
  // The blocks variant: its block size by the rule (S = 40: 4, 10 blocks), its point at its
  // defaults and the tokens variant's recall at that density.
  assert.equal(r.blockSize, rivalBlockSize(40));
  assert.equal(r.blockSize, 4);
  const bp = blocksOperatingPoint(r.model_curves)!;
  assert.equal(bp.knob, 0.95);
  assert.ok(text.includes(`sampleattention-blocks at its defaults (alphaColumn = alphaSlash = 0.95, block 4): density ${bp.density.toFixed(4)}, recall ${bp.recallMean.toFixed(4)}; sampleattention (tokens) at that density: `), text);
  assert.match(text, /sampleattention-blocks = variant blocks \(block 4, rowRatio 0\.1, alphaColumn = alphaSlash swept/);
  // Per layer: 6 rows each, the layer named on its first row, the SA row carries its density.
  const li = lines.findIndex((l) => l.startsWith('per layer'));
  const detail = lines.slice(li + 3);
  assert.equal(detail.length, 12, text);
  assert.match(detail[0], /^0\s+sampleattention\s/);
  assert.match(detail[1], /^\s+sampleattention-blocks\s/);
  assert.match(detail[6], /^1\s+sampleattention\s/);
  assert.match(detail[2], /^\s+streamingllm\s/);
  assert.match(detail[0], /\(d 0\.\d{3}\)$/);
  assert.ok(!text.includes('NaN'), text);
});

test(`rivals table per head with --heads; the "-" note appears exactly when some cell is "-" (SEED=${seed})`, async () => {
  for (const densities of [[0.9, 1], [0.001, 0.9]]) {
    const r = await report(true, densities, 0);
    assert.deepEqual(r.head_curves.map((e) => `${e.layer}:${e.head}`), ['0:1', '0:3', '1:1', '1:3']);
    const text = formatRivals(r);
    assert.match(text, /per head \(layer:head\)/);
    for (const h of ['0:1', '0:3', '1:1', '1:3']) assert.match(text, new RegExp(`^${h}\\s+sampleattention`, 'm'));
    const anyMissing = [r.model_curves, ...r.head_curves.map((e) => e.curves)].some((c) => curveRows(c, densities, 0.95, false).missing.size > 0);
    const dash = text.split('\n').some((l) => /\s-(\s|$)/.test(l) && !l.startsWith('-'));
    assert.equal(/never gets that sparse/.test(text), anyMissing, text);
    assert.equal(dash, anyMissing, text);
    // Density 0.001 is below every sweep but the oracle's sparsest (0.01) at S = 40: always "-".
    if (densities[0] === 0.001) assert.ok(anyMissing);
  }
});

function checkSvg(svg: string, patterns: number) {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(!/NaN|Infinity|undefined/.test(svg), 'no NaN, Infinity or undefined anywhere');
  // Tags balance: every opened non-self-closing tag is closed, in order.
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[1]) assert.equal(stack.pop(), m[2], `closing </${m[2]}>`);
    else if (!m[3]) stack.push(m[2]);
  }
  assert.deepEqual(stack, []);
  // Text between tags has no raw < or &.
  for (const m of svg.matchAll(/>([^<]*)</g)) assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(m[1]), `unescaped & in "${m[1]}"`);
  const paths = [...svg.matchAll(/<path class="curve" data-pattern="([^"]+)" d="([^"]+)"/g)];
  assert.equal(paths.length, patterns);
  for (const p of paths) {
    const nums = p[2].replace(/[ML]/g, ' ').split(/[ ,]+/).filter(Boolean).map(Number);
    assert.ok(nums.length >= 4 && nums.every(Number.isFinite), `${p[1]}: ${p[2]}`);
  }
  for (const m of svg.matchAll(/ (?:cx|cy|x|y|x1|x2|y1|y2|r|width|height)="([^"]*)"/g)) assert.ok(Number.isFinite(Number(m[1])), `attribute value ${m[1]}`);
  return paths;
}

test(`rivalsSvg: well-formed SVG, one path per pattern, legend and operating point, no NaN (SEED=${seed})`, async () => {
  const r = await report(false);
  const svg = reportSvg(r);
  const paths = checkSvg(svg, 6);
  assert.deepEqual(paths.map((p) => p[1]).sort(), ['block-topk', 'oracle', 'sampleattention', 'sampleattention-blocks', 'streamingllm', 'vertical-slash']);
  assert.equal((svg.match(/class="operating-point"/g) ?? []).length, 1);
  assert.equal((svg.match(/class="legend"/g) ?? []).length, 6);
  assert.match(svg, />SampleAttention \(blocks\)</);
  // The blocks variant's point per head (at its defaults), one ring each, named in the legend.
  const rings = /<g class="head-points" data-pattern="sampleattention-blocks"[^>]*>(.*?)<\/g>/.exec(svg);
  assert.equal((rings?.[1].match(/<circle/g) ?? []).length, r.head_curves.length, 'one ring per head');
  // Each ring at its head's density: the plot spans x 70 .. 690 px for density 0 .. 1 (the default
  // 980 px width less the 70 px left and 290 px right margins); cx is rounded to 0.01 px.
  const cx = [...rings![1].matchAll(/cx="([^"]+)"/g)].map((m) => Number(m[1]));
  r.head_curves.forEach((e, h) => assert.ok(Math.abs(cx[h] - (70 + blocksOperatingPoint(e.curves)!.density * 620)) <= 0.006, `head ${h}: ring at ${cx[h]}`));
  assert.equal((svg.match(/class="legend-points"/g) ?? []).length, 1);
  assert.match(svg, /density \(kept share of the causal map\)/);
  assert.match(svg, /mean row recall/);
});

test('rivalsSvg: escapes text, drops non-finite points, light theme, no operating point', () => {
  const curves: RivalCurve[] = [
    { pattern: 'sampleattention', knob: 'alpha', points: [{ knob: 0.5, density: 0.2, recallMean: 0.7, recallMin: 0.1, recallP5: 0.2 }, { knob: 1, density: 1, recallMean: 1, recallMin: 1, recallP5: 1 }] },
    { pattern: 'oracle', knob: 'density <& "x">', points: [{ knob: 0.1, density: NaN, recallMean: 0.5, recallMin: 0, recallP5: 0 }, { knob: 0.5, density: 0.5, recallMean: 0.95, recallMin: 0.5, recallP5: 0.6 }, { knob: 1, density: 1, recallMean: 1, recallMin: 1, recallP5: 1 }] },
  ];
  const svg = rivalsSvg(curves, { theme: 'light', title: 'a < b & c', subtitle: "it's" });
  checkSvg(svg, 2);
  assert.match(svg, /a &lt; b &amp; c/);
  assert.match(svg, /density &lt;&amp; &quot;x&quot;&gt;/);
  assert.doesNotMatch(svg, /operating-point/);
  assert.match(svg, /fill="#ffffff"/);
});

test('rivals: a missing text or an output folder that does not exist fails before any model is loaded', async () => {
  await assert.rejects(rivalsCommand(['--model', 'no-such-model', '--text', '/no/such/text.txt']), /--text \/no\/such\/text\.txt: no such file/);
  await assert.rejects(rivalsCommand(['--model', 'no-such-model', '--text', 'README.md', '--json', '/no/such/dir/r.json']), (e: unknown) => e instanceof UsageError && /--json \/no\/such\/dir\/r\.json: the folder \/no\/such\/dir does not exist/.test((e as Error).message));
});

/** A MInference file for the synthetic capture's 2 layers x 4 heads, sizes differing per head. */
const MI = parseMInference(JSON.stringify([0, 1].map((l) => Object.fromEntries([0, 1, 2, 3].map((h) => [String(h), h === 3 && l === 1 ? ['stream_llm', 2, 6, 0] : ['vertical_and_slash', 4 + h, 8 + l, 0.9]])))));

test(`rivals --minference: a minference row in the model table and in every per-layer and per-head table, a point per head on the SVG (SEED=${seed})`, async () => {
  for (const perHead of [false, true]) {
    const cap = capture(40, 8, seed);
    const params = { alpha: 0.95, rowRatio: 0.1, windowRatio: 0.08 };
    const heads = perHead ? [1, 3] : [0, 1, 2, 3];
    const { of: _, ...part } = await rivalsStudy(cap, [0, 1], heads, params, cap.S, {}, { config: MI, source: 'mi.json' });
    const r: RivalsReport = { model: 'synthetic', text: 'x.txt', params, densities: [0.2, 0.5, 1], perHead, minference: 'mi.json', ...part };
    assert.deepEqual(r.head_curves.map((e) => e.minference), [0, 1].flatMap((l) => heads.map((h) => MI[l].get(h))), 'each head carries its file entry');
    const text = formatRivals(r);
    const lines = text.split('\n');
    const modelRows = lines.slice(lines.findIndex((l) => l.startsWith('pattern')) + 2).filter((l) => /^[a-z-]+\s/.test(l));
    assert.deepEqual(modelRows.slice(0, 7).map((l) => l.split(/\s+/)[0]), ['sampleattention', 'sampleattention-blocks', 'streamingllm', 'vertical-slash', 'block-topk', 'oracle', 'minference'], text);
    const mi = r.model_curves[6].points[0];
    // @1 is above the file's density: its own recall; the knob column says nothing is swept.
    assert.match(modelRows[6], new RegExp(`\\s${mi.recallMean.toFixed(4)}\\s+\\S+\\s+none: the file's sizes$`), modelRows[5]);
    assert.match(text, new RegExp(`Its point \\(mean over heads\\): density ${mi.density.toFixed(4)}, recall ${mi.recallMean.toFixed(4)}`));
    const detailRows = lines.slice(lines.findIndex((l) => l.startsWith('per ')) + 3);
    assert.equal(detailRows.filter((l) => /^\S*\s+minference\s/.test(l)).length, perHead ? 4 : 2, text);
    // The head's point is the head's mean: one head per entry, mean over heads = model point.
    const pts = r.head_curves.map((e) => e.curves[6].points[0]);
    assert.ok(Math.abs(pts.reduce((a, p) => a + p.density, 0) / pts.length - mi.density) < 1e-12);
    const svg = reportSvg(r);
    const paths = checkSvg(svg, 6);
    assert.ok(!paths.some((p) => p[1] === 'minference'), 'a single point is not drawn as a line');
    const group = /<g class="head-points" data-pattern="minference"[^>]*>(.*?)<\/g>/.exec(svg);
    assert.equal((group?.[1].match(/<circle/g) ?? []).length, pts.length, 'one ring per head');
    assert.equal((svg.match(/class="fixed-point" data-pattern="minference"/g) ?? []).length, 1);
    assert.equal((svg.match(/class="legend"/g) ?? []).length, 7);
  }
});

test('rivals --minference: a file that does not fit the heads, or a broken one, is a named input error', async () => {
  const cap = capture(16, 4, seed);
  const p = { alpha: 0.95, rowRatio: 0.1, windowRatio: 0.08 };
  await assert.rejects(rivalsStudy(cap, [0], [0], p, cap.S, {}, { config: MI.slice(0, 1), source: 'one.json' }), (e: unknown) => e instanceof MInferenceConfigError && /one\.json does not fit the model: config: the file has 1 layer\(s\) and the model 2/.test(oneLine((e as Error).message)));
  const holes = parseMInference('[{"0": ["vertical_and_slash", 1, 2, 0]}, {"0": ["vertical_and_slash", 1, 2, 0]}]');
  await assert.rejects(rivalsStudy(cap, [1], [0, 2], p, cap.S, {}, { config: holes, source: 'h.json' }), (e: unknown) => e instanceof MInferenceConfigError && e.key === '[1]["2"]');
  // On the command line: exit 2, one line naming the path, before any model is loaded.
  const dir = mkdtempSync(join(tmpdir(), 'sa-rivals-mi-'));
  try {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '[{"0": ["vertical_and_slash", -1, 2, 0]}]');
    const err: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => void err.push(a.join(' '));
    let status: number;
    try {
      status = await main(['rivals', '--model', join(dir, 'no-such-model'), '--text', 'README.md', '--minference', file]);
    } finally {
      console.error = error;
    }
    assert.equal(status, 2);
    assert.equal(err.length, 1, err.join('\n'));
    assert.match(err[0], /^sa-studio rivals: .*bad\.json is not a valid MInference config .*\[0\]\["0"\]\[1\]: vertical_size -1 is not a non-negative integer$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
