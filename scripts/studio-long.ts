#!/usr/bin/env -S node --import tsx --import ./scripts/register-wgsl.mjs
// The studio on a long text in a real browser (issue 13, "the studio at 32K"), as a one-off run,
// not a test (scripts/test-all.mjs only runs tests/**/*.test.ts|mjs): the same Vite server and
// Chromium as tests/browser (openStudio: Debian's Chromium, headless, WebGPU on SwiftShader without
// a GPU), the bundled default model, a bundled text cut to L tokens (--tokens, default 32768).
// Through the UI only: open at a few tokens, pick the text, set max tokens to L (the prefill, then
// SampleAttention layer after layer, the status polled and printed with timestamps), then screenshot
// the overview, open a head view, wheel-zoom to single tokens, move "Alpha" once and time it.
// Memory: the studio's own plan (estimateGpuMemory, the function the engine's guard calls), the
// live GPU bytes the engine's worker allocates (createBuffer/destroy counted in the worker, from
// the start of the L run), and the host memory (PSS) of this script's Chromium processes by type,
// sampled every 2 s. On SwiftShader the "GPU" is host memory of Chromium's GPU process.
//
//   node --import tsx --import ./scripts/register-wgsl.mjs scripts/studio-long.ts [--tokens 32768] [--text prose-long-alice-in-wonderland.txt]
//        [--head 4,3] [--timeout-min 60] [--out test-results/long]
//
// Times are SwiftShader on the machine it runs on: not comparable with a real GPU.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Worker } from 'playwright-core';
import { openStudio, unexpectedErrors } from '../tests/browser/helpers/browser';
import { parseModelConfig } from '../src/model/loader/model-config';
import { estimateGpuMemory } from '../src/model/memory-plan';

const args = process.argv.slice(2);
function flag(name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}
const L = Number(flag('tokens', '32768'));
const TEXT = flag('text', 'prose-long-alice-in-wonderland.txt');
const [HEAD_L, HEAD_H] = flag('head', '4,3').split(',').map(Number);
const TIMEOUT_MS = Number(flag('timeout-min', '60')) * 60_000;
const OUT = join(process.cwd(), flag('out', join('test-results', 'long')), `L${L}`);
if (!Number.isInteger(L) || L < 16) throw new Error(`--tokens must be an integer >= 16, not ${flag('tokens', '')}`);
if (!Number.isInteger(HEAD_L) || !Number.isInteger(HEAD_H)) throw new Error('--head needs LAYER,HEAD');
if (!Number.isFinite(TIMEOUT_MS) || TIMEOUT_MS <= 0) throw new Error('--timeout-min must be positive');
mkdirSync(OUT, { recursive: true });

const MiB = 2 ** 20;
const t00 = Date.now();
const stamp = () => `${((Date.now() - t00) / 1000).toFixed(1).padStart(7)} s`;
const log = (s: string) => console.log(`[${stamp()}] ${s}`);

// ---- host memory: PSS of this process's descendants (Chromium's processes), by type ----
interface Sample { t: number; byType: Record<string, number>; total: number }
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    for (const [c, pp] of parent) if (pp === p) { out.push(c); todo.push(c); }
  }
  return out;
}
function procType(pid: number): string | null {
  try {
    // Chromium rewrites its children's argv into one space-separated string: split on both.
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    if (!/chrom/.test(cmd[0] ?? '')) return null;
    const t = cmd.find((a) => a.startsWith('--type='));
    if (!t) return 'browser';
    if (t === '--type=utility') return 'utility';
    return t.slice('--type='.length);
  } catch {
    return null;
  }
}
function pss(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
function sampleHost(): Sample {
  const byType: Record<string, number> = {};
  for (const pid of descendants(process.pid)) {
    const t = procType(pid);
    if (t) byType[t] = (byType[t] ?? 0) + pss(pid);
  }
  return { t: Date.now(), byType, total: Object.values(byType).reduce((a, b) => a + b, 0) };
}
const peakHost: Record<string, number> = {};
let peakHostTotal = 0;
function noteHost(s: Sample): void {
  for (const [k, v] of Object.entries(s.byType)) peakHost[k] = Math.max(peakHost[k] ?? 0, v);
  peakHostTotal = Math.max(peakHostTotal, s.total);
}

// ---- GPU bytes the engine allocates: counted in the engine's worker ----
/** Wraps GPUDevice.prototype.createBuffer and GPUBuffer.prototype.destroy in the worker (they are
 * prototype methods, so the engine's existing device is counted from now on). Buffers made before
 * (the weights) are not counted, and destroying them does not subtract. */
function trackGpu(): void {
  const g = globalThis as unknown as { __gpuMem?: { live: number; peak: number; created: number } };
  if (g.__gpuMem) return;
  const m = (g.__gpuMem = { live: 0, peak: 0, created: 0 });
  const sizes = new WeakMap<GPUBuffer, number>();
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
    const b = create.call(this, d);
    sizes.set(b, d.size);
    m.live += d.size;
    m.created++;
    if (m.live > m.peak) m.peak = m.live;
    return b;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    const s = sizes.get(this);
    if (s !== undefined) { sizes.delete(this); m.live -= s; }
    return destroy.call(this);
  };
}
async function gpuMem(w: Worker | null): Promise<{ live: number; peak: number; created: number } | null> {
  if (!w) return null;
  try {
    return await w.evaluate(() => (globalThis as unknown as { __gpuMem?: { live: number; peak: number; created: number } }).__gpuMem ?? null);
  } catch {
    return null;
  }
}
async function resetGpuPeak(w: Worker | null): Promise<void> {
  await w?.evaluate(() => { const m = (globalThis as unknown as { __gpuMem?: { live: number; peak: number } }).__gpuMem; if (m) m.peak = m.live; }).catch(() => undefined);
}

// ---- the page ----
const statusText = (page: Page) => page.evaluate(() => {
  const s = document.querySelector('[data-testid="status"]')?.textContent ?? '';
  const p = document.querySelector('[aria-label$=" progress"] .status')?.textContent ?? '';
  return p ? `${s} | ${p}` : s;
});
async function shot(page: Page, name: string): Promise<void> {
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  log(`screenshot ${file}`);
}
/** Polls until `done` holds, printing the status line whenever it changes, sampling memory. */
async function until(page: Page, what: string, done: () => Promise<boolean>, w: () => Worker | null, timeoutMs = TIMEOUT_MS): Promise<number> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    const s = await statusText(page).catch(() => '(page busy)');
    const h = sampleHost();
    noteHost(h);
    const gm = await gpuMem(w());
    if (s !== last) {
      log(`${what}: ${s || '(no status)'}   [host ${(h.total / MiB).toFixed(0)} MiB${gm ? `, GPU live ${(gm.live / MiB).toFixed(0)} MiB` : ''}]`);
      last = s;
    }
    if (/error|failed|lost|refused/i.test(s) && !/Cancel/.test(s)) {
      const err = await page.locator('[data-testid="status"].error').count();
      if (err) throw new Error(`${what}: the studio reports an error: ${s}`);
    }
    if (await done()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not done after ${(timeoutMs / 60_000).toFixed(0)} min; last status: ${s}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
const ready = (page: Page) => () => page.evaluate(() => {
  const s = document.querySelector('[data-testid="status"]')?.textContent ?? '';
  return !!document.querySelector('[data-testid="head-recall"]') && !!document.querySelector('[data-testid="tokens"]') && !/Loading|Prefill|SampleAttention, layer|Tokenizing|Looking/.test(s);
});

async function main(): Promise<void> {
  const cfgJson = JSON.parse(readFileSync(join(process.cwd(), 'public', 'models', 'default', 'config.json'), 'utf8'));
  const config = parseModelConfig(cfgJson);
  log(`studio at L = ${L} tokens of ${TEXT}; default model ${config.numLayers} x ${config.numHeads}, ${config.maxPositions} positions; screenshots in ${OUT}`);
  const phases: [string, number][] = [];

  const st = await openStudio('/?maxTokens=64&fresh');
  const { page } = st;
  let worker: Worker | null = null;
  const findWorker = () => {
    worker ??= page.workers().find((x) => /engine/.test(x.url())) ?? null;
    return worker;
  };
  page.on('worker', (x) => { if (/engine/.test(x.url())) worker = x; });
  try {
    const tOpen = await until(page, 'open (64 tokens)', ready(page), findWorker, 10 * 60_000);
    phases.push(['open + 64-token run', tOpen]);
    const adapter = await page.getByTestId('adapter').textContent();
    log(`adapter: ${adapter}; precision ${await page.getByTestId('precision').inputValue()}`);
    const w = findWorker();
    if (!w) log('the engine worker was not found: GPU bytes not counted');
    await w?.evaluate(trackGpu);

    // The text at a few tokens (fast), then max tokens L: one long run.
    await page.getByLabel('Sample text').selectOption(TEXT);
    phases.push(['pick the text (64 tokens)', await until(page, 'text', async () => (await page.locator('dd', { hasText: TEXT.replace(/\.[a-z]+$/, '') }).count()) > 0 && (await ready(page)()), findWorker, 10 * 60_000)]);
    await resetGpuPeak(w);
    const plan = estimateGpuMemory(config, { S: L, precision: (await page.getByTestId('precision').inputValue()) as 'f32' | 'f16', logits: 'none', captureLayers: true, sampleAttention: config.numLayers });

    const tRun0 = Date.now();
    await page.getByLabel('Max tokens').fill(String(L));
    await page.getByLabel('Max tokens').blur();
    // Phase boundaries from the status text: prefill, then SampleAttention layer after layer.
    let tPrefillEnd = 0, tSelectEnd = 0;
    await until(page, `run L=${L}`, async () => {
      const s = await statusText(page).catch(() => '');
      if (!tPrefillEnd && /SampleAttention, layer/.test(s)) tPrefillEnd = Date.now();
      if (tPrefillEnd && !tSelectEnd && !/SampleAttention, layer/.test(s)) tSelectEnd = Date.now();
      return (await page.getByTestId('tokens').textContent().catch(() => '')) === String(L) && (await ready(page)());
    }, findWorker);
    const tRun1 = Date.now();
    const pageMs = await page.evaluate(() => {
      const dt = [...document.querySelectorAll('dt')].find((x) => x.textContent === 'prefill');
      return Number(/(\d+) ms/.exec(dt?.nextElementSibling?.textContent ?? '')?.[1] ?? NaN);
    });
    phases.push([`tokenize + prefill (to the first "SampleAttention" status)`, (tPrefillEnd || tRun1) - tRun0]);
    phases.push([`  prefill as the studio reports it`, pageMs]);
    if (tPrefillEnd) phases.push(['SampleAttention, all layers', (tSelectEnd || tRun1) - tPrefillEnd]);
    if (tSelectEnd) phases.push(['chosen head view (measures, planes)', tRun1 - tSelectEnd]);
    phases.push([`whole run at L = ${L}`, tRun1 - tRun0]);
    const afterRun = await gpuMem(w);
    await shot(page, '1-overview');

    // A head view: pick a head in the overview.
    const headName = `Layer ${HEAD_L} head ${HEAD_H}`;
    const tHead = Date.now();
    await page.getByRole('button', { name: headName, exact: true }).click();
    await page.getByTestId('head-title').filter({ hasText: headName }).waitFor({ timeout: TIMEOUT_MS });
    const MAP = `Attention map, ${headName}`;
    const map = page.getByRole('img', { name: MAP, exact: true });
    await map.waitFor({ timeout: TIMEOUT_MS });
    await until(page, 'head view', async () => /^(pooled|exact)/.test((await page.getByTestId('map-resolution').textContent().catch(() => '')) ?? '') && (await ready(page)()), findWorker);
    phases.push([`open the head view (${headName})`, Date.now() - tHead]);
    await map.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    const res0 = await page.getByTestId('map-resolution').textContent();
    log(`head map: ${res0}; ${await page.getByTestId('visible-range').textContent()}`);
    await shot(page, '2-head-pooled');

    // Wheel-zoom on the lower-left (causal) part until one token per cell; each d3 wheel step of
    // 300 px is x2^0.6, so at 32K (64-token cells at 512 px) about 11 steps give the exact view.
    const box = (await map.boundingBox())!;
    // Just below the diagonal (query a little past key), where the attention is.
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.62);
    const tZoom = Date.now();
    let steps = 0;
    for (; steps < 40; steps++) {
      const range = (await page.getByTestId('visible-range').textContent()) ?? '';
      const m = /queries (\d+)\.\.(\d+), keys (\d+)\.\.(\d+)/.exec(range);
      if (m && Math.max(+m[2] - +m[1], +m[4] - +m[3]) < 48) break;
      await page.mouse.wheel(0, -300);
      await page.waitForTimeout(30);
    }
    const midZoom = await page.getByTestId('map-resolution').textContent();
    await until(page, 'zoom', async () => /^exact: 1 token per cell/.test((await page.getByTestId('map-resolution').textContent()) ?? ''), findWorker, 10 * 60_000);
    phases.push([`zoom to single tokens (${steps} wheel steps, to the exact view)`, Date.now() - tZoom]);
    await page.mouse.move(0, 0);
    log(`zoomed: ${await page.getByTestId('map-resolution').textContent()} (during the zoom: ${midZoom}); ${await page.getByTestId('visible-range').textContent()}; transform ${await map.getAttribute('data-transform')}`);
    await shot(page, '3-head-exact');
    // Hover a cell: the tooltip names its tokens.
    const b2 = (await map.boundingBox())!;
    await page.mouse.move(b2.x + b2.width * 0.5, b2.y + b2.height * 0.75);
    log(`hover: ${await page.getByTestId('token-tooltip').textContent().catch(() => '(none)')}`);
    await shot(page, '4-head-exact-hover');
    await page.mouse.move(0, 0);

    // One slider move, timed: the chosen layer and the head view, then the other layers.
    const slider = page.getByRole('slider', { name: 'Alpha', exact: true });
    const a0 = Number(await slider.inputValue());
    await slider.scrollIntoViewIfNeeded();
    await resetGpuPeak(w);
    const tSlide = Date.now();
    await slider.fill(String(a0 >= 0.9 ? 0.9 : 0.95));
    await page.getByTestId('recompute-time').waitFor({ timeout: TIMEOUT_MS });
    const tLayer = Date.now() - tSlide;
    const first = await page.getByTestId('recompute-time').textContent();
    log(`slider: ${first}`);
    await shot(page, '5-slider-chosen-layer');
    await until(page, 'slider, other layers', async () => /whole model/.test((await page.getByTestId('recompute-time').textContent()) ?? ''), findWorker);
    const tModel = Date.now() - tSlide;
    const timing = (await page.getByTestId('recompute-time').textContent()) ?? '';
    log(`slider: ${timing}`);
    const m = /redrew in (\d+) ms; whole model in (\d+) ms/.exec(timing);
    phases.push(['slider: chosen layer + redraw (page wall clock)', tLayer]);
    if (m) phases.push(['  as the studio reports it', Number(m[1])]);
    phases.push(['slider: whole model (page wall clock)', tModel]);
    if (m) phases.push(['  as the studio reports it', Number(m[2])]);
    await shot(page, '6-slider-done');
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    await shot(page, '7-head-after-slider');
    const sliderGpu = await gpuMem(w);

    const errs = unexpectedErrors(st.errors);
    const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN);

    // ---- summary ----
    const lines: string[] = [];
    lines.push(`Studio at L = ${L} tokens (${TEXT}), default model, ${adapter}; times are SwiftShader on this machine, not a GPU.`);
    lines.push('');
    lines.push('| phase | seconds |', '| --- | ---: |');
    for (const [k, v] of phases) lines.push(`| ${k} | ${(v / 1000).toFixed(1)} |`);
    lines.push('');
    lines.push('| memory | MiB |', '| --- | ---: |');
    lines.push(`| GPU plan (estimateGpuMemory): weights | ${(plan.weights / MiB).toFixed(0)} |`);
    lines.push(`| GPU plan: activations | ${(plan.activations / MiB).toFixed(0)} |`);
    lines.push(`| GPU plan: SampleAttention runs (${config.numLayers} layers) | ${(plan.sampleAttention / MiB).toFixed(0)} |`);
    lines.push(`| GPU plan: q/k/v + lse captures | ${(plan.captures / MiB).toFixed(0)} |`);
    lines.push(`| GPU plan: total (largest buffer ${plan.largest.what}, ${(plan.largest.bytes / MiB).toFixed(0)}) | ${(plan.total / MiB).toFixed(0)} |`);
    const pr = afterRun;
    if (pr) lines.push(`| GPU measured: peak live bytes the L run allocated (weights not included) | ${(pr.peak / MiB).toFixed(0)} |`);
    if (pr) lines.push(`| GPU measured: live after the run (kept for drawing) | ${(pr.live / MiB).toFixed(0)} |`);
    if (sliderGpu) lines.push(`| GPU measured: peak live during the slider move | ${(sliderGpu.peak / MiB).toFixed(0)} |`);
    for (const [k, v] of Object.entries(peakHost).sort()) lines.push(`| host peak PSS: Chromium ${k} process(es) | ${(v / MiB).toFixed(0)} |`);
    lines.push(`| host peak PSS: all Chromium processes (sampled together) | ${(peakHostTotal / MiB).toFixed(0)} |`);
    lines.push(`| page JS heap at the end (performance.memory) | ${Number.isFinite(heap) ? (heap / MiB).toFixed(0) : 'n/a'} |`);
    lines.push('');
    lines.push(errs.length ? `Unexpected console errors: ${errs.join(' / ')}` : 'No unexpected console errors.');
    console.log('\n' + lines.join('\n'));
    writeFileSync(join(OUT, 'summary.md'), lines.join('\n') + '\n');
  } catch (e) {
    await shot(page, 'failed').catch(() => undefined);
    console.error(`console errors: ${st.errors.join(' / ') || 'none'}`);
    throw e;
  } finally {
    await st.close();
  }
}

main().then(() => log('done'), (e) => {
  console.error(`[${stamp()}] FAILED: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
