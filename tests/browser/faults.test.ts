// Faults in a real browser (Debian's Chromium, headless, SwiftShader WebGPU), issue 17: a GPU
// device lost in the middle of a prefill, a slider move and a tune (forced with device.destroy()
// through the ?faults hooks of src/state/start.ts), and a worker that ends without an `error`
// event (found by the heartbeat, here shortened to ~6 s by ?heartbeatMs). Each must end in the
// banner naming what happened, and "Restart engine" must bring back the model, text, parameters
// and per-head overrides. Then bad input: a broken checkpoint folder shows the loader's named
// message and leaves the last good model usable; a text past the model's positions is named
// before work starts; a per-head config for another model applies nothing and names its path.
// The small fixture model (2 layers x 4 heads) and 40 tokens keep every step to seconds. The same
// short heartbeat is on throughout, so the prefills, selections and the tune here also check that
// long GPU work is not mistaken for a dead worker. Screenshots go to test-results/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Page } from 'playwright-core';
import { openStudio, screenshot, unexpectedErrors, waitReady, type Studio } from './helpers/browser';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { memoryFiles } from '../../src/model/loader/files';
import { oneLine } from '../../gpu/errors';

const TOKENS = 40;
const PATH = `/?model=fixture-llama3&maxTokens=${TOKENS}&fresh&faults&heartbeatMs=6000`;
const READY_MS = 120_000;
const STEP_MS = 60_000;
const FIXTURE = join(process.cwd(), 'public', 'models', 'fixture-llama3');
const HEAD = 'Layer 1 head 2';

let st: Studio;

const slider = (page: Page, name: string) => page.getByRole('slider', { name, exact: true });

/** Forces a fault through the ?faults hooks (src/state/start.ts). */
async function arm(page: Page, point: 'prefill' | 'select' | 'tune'): Promise<void> {
  await page.evaluate((p) => (globalThis as unknown as { __studioFaults: { arm(p: string): Promise<void> } }).__studioFaults.arm(p), point);
}

/** Waits for the fault banner, checks its words, restarts, and waits until the studio is ready. */
async function restartAfter(page: Page, title: RegExp, shot: string): Promise<string> {
  const banner = page.getByTestId('engine-fault');
  const tFault = Date.now();
  await banner.waitFor({ timeout: STEP_MS });
  console.log(`${shot}: banner after ${Date.now() - tFault} ms`);
  const text = (await banner.textContent()) ?? '';
  assert.match(text, title);
  assert.match(text, /Restart the engine to go on: the model, text, parameters and per-head overrides are kept\./);
  assert.match((await page.getByTestId('status').textContent()) ?? '', title);
  await screenshot(page, shot);
  const t0 = Date.now();
  await banner.getByRole('button', { name: 'Restart engine' }).click();
  await banner.waitFor({ state: 'detached', timeout: READY_MS });
  await waitReady(page, READY_MS);
  console.log(`${shot}: ready again ${Date.now() - t0} ms after Restart engine`);
  return text;
}

/** What the restart must bring back: model, text length, the chosen head and its override. */
async function assertRestored(page: Page, values: { alpha: string; windowRatio: string }): Promise<void> {
  assert.equal(await page.getByTestId('model-name').textContent(), 'fixture-llama3');
  assert.equal(await page.getByTestId('tokens').textContent(), String(TOKENS));
  assert.equal(await page.getByTestId('head-title').textContent(), HEAD);
  assert.equal(await page.getByTestId('value-alpha').textContent(), values.alpha);
  assert.equal(await page.getByTestId('value-windowRatio').textContent(), values.windowRatio);
  assert.equal(await page.locator('.slider .badge').count() > 0, true, 'the override badge is back');
  assert.equal(await page.locator('[data-testid="status"].error').count(), 0);
}

before(async () => {
  const t0 = Date.now();
  st = await openStudio(PATH);
  await waitReady(st.page, READY_MS);
  console.log(`first ready after ${Date.now() - t0} ms`);
  // A per-head override on a head other than the first, so a restart that dropped it shows.
  const { page } = st;
  await page.getByRole('button', { name: HEAD, exact: true }).click();
  await page.getByTestId('head-title').filter({ hasText: HEAD }).waitFor({ timeout: STEP_MS });
  await page.getByRole('radio', { name: /This head/ }).check();
  await slider(page, 'Window ratio').fill('0.2');
  await page.locator('.slider .badge').first().waitFor({ timeout: STEP_MS });
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });
});

after(async () => {
  await st?.close();
});

test('a device lost in the middle of a prefill: the banner says so; Restart engine brings it all back', async () => {
  const { page } = st;
  // Max tokens 40 -> 40 again would not rerun; a sample text change reruns the prefill.
  await arm(page, 'prefill');
  await page.getByLabel('Sample text').selectOption({ index: 1 });
  await restartAfter(page, /The GPU device was lost \(destroyed/, 'faults-1-lost-in-prefill');
  await assertRestored(page, { alpha: '0.950', windowRatio: '0.200' });
  await screenshot(page, 'faults-2-restarted');
});

test('a device lost in a slider move: Restart engine keeps the moved value', async () => {
  const { page } = st;
  await arm(page, 'select');
  await slider(page, 'Alpha').fill('0.8');
  await restartAfter(page, /The GPU device was lost/, 'faults-3-lost-in-slider-move');
  await assertRestored(page, { alpha: '0.800', windowRatio: '0.200' });
});

test('a device lost during auto-tune: the tune stops, nothing is applied, Restart engine recovers', async () => {
  const { page } = st;
  const tune = page.getByRole('region', { name: 'Auto-tune' });
  await tune.getByLabel('Alphas').fill('0.8, 0.95');
  await tune.getByLabel('Row ratios').fill('0.05');
  await tune.getByLabel('Window ratios').fill('0, 0.08');
  await arm(page, 'tune');
  await tune.getByRole('button', { name: 'Tune', exact: true }).click();
  await restartAfter(page, /The GPU device was lost/, 'faults-4-lost-in-tune');
  // The tune's result never became the parameters: the override set before it is still there.
  await assertRestored(page, { alpha: '0.800', windowRatio: '0.200' });
  assert.equal(await page.getByTestId('tune-report').count(), 0);
});

test('a worker that ends without an error event is found by the heartbeat', async () => {
  const { page } = st;
  const t0 = Date.now();
  await page.evaluate(() => (globalThis as unknown as { __studioFaults: { exitWorker(): void } }).__studioFaults.exitWorker());
  await page.getByTestId('engine-fault').waitFor({ timeout: STEP_MS });
  const found = Date.now() - t0;
  console.log(`silent worker found after ${found} ms (heartbeat limit ~6000 ms)`);
  assert.ok(found >= 4000, `declared dead after only ${found} ms, before the heartbeat's limit`);
  await restartAfter(page, /The engine's worker stopped answering \(no reply for \d+ s\)/, 'faults-5-silent-worker');
  await assertRestored(page, { alpha: '0.800', windowRatio: '0.200' });
  assert.deepEqual(unexpectedErrors(st.errors), []);
});

test('bad input is named as the CLI names it, and the last good model stays usable', async () => {
  const { page } = st;
  const status = page.getByTestId('status');
  // A checkpoint folder whose config.json is not JSON: the loader's own message, on one line.
  const dir = join(mkdtempSync(join(tmpdir(), 'sa-faults-')), 'broken-config');
  const tBad = Date.now();
  mkdirSync(dir);
  for (const f of ['model.safetensors', 'tokenizer.json']) copyFileSync(join(FIXTURE, f), join(dir, f));
  // Valid JSON without a required key, so the message is ours, not the JSON engine's wording
  // (Node's and Chromium's V8 word a syntax error differently).
  const cfg = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8'));
  delete cfg.num_attention_heads;
  const broken = JSON.stringify(cfg);
  writeFileSync(join(dir, 'config.json'), broken);
  const expected = await loadCheckpoint(memoryFiles('broken-config', {
    'config.json': broken,
    'model.safetensors': new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
    'tokenizer.json': readFileSync(join(dir, 'tokenizer.json'), 'utf8'),
  })).then(() => '', (e: Error) => oneLine(e.message));
  assert.match(expected, /config\.json.*num_attention_heads/);
  await page.getByLabel('Open checkpoint folder').setInputFiles(dir);
  await page.locator('[data-testid="status"].error').waitFor({ timeout: STEP_MS });
  assert.equal(await status.textContent(), expected);
  await screenshot(page, 'faults-6-config-lacks-key');
  // The last good model is still open, drawn and usable: a slider move recomputes it.
  assert.equal(await page.getByTestId('model-name').textContent(), 'fixture-llama3');
  assert.equal(await page.getByTestId('tokens').textContent(), String(TOKENS));
  assert.equal(await page.getByLabel('Bundled model').inputValue(), 'fixture-llama3');
  const before = await page.getByTestId('recompute-time').textContent();
  await slider(page, 'Alpha').fill('0.85');
  await page.waitForFunction((b) => {
    const t = document.querySelector('[data-testid="recompute-time"]')?.textContent ?? '';
    return t !== b && /whole model/.test(t);
  }, before, { timeout: STEP_MS });

  // Max tokens above the model's 256 positions, on a text longer than that: named before the
  // prefill, and the previous text's results (and the old limit) stay.
  await page.getByLabel('Max tokens').fill('300');
  await page.getByLabel('Max tokens').blur();
  await status.filter({ hasText: /more than the model's 256 positions/ }).waitFor({ timeout: STEP_MS });
  assert.match((await status.textContent()) ?? '', /has 300 tokens \(at max tokens 300\), more than the model's 256 positions \(max_position_embeddings\): set max tokens to 256 or less/);
  assert.equal(await page.getByTestId('tokens').textContent(), String(TOKENS));
  assert.equal(await page.getByLabel('Max tokens').inputValue(), String(TOKENS));
  await screenshot(page, 'faults-7-text-past-context');

  // A per-head config made for another model shape: nothing applied, the field path named.
  const good = { version: 1, model: { name: 'other', family: 'llama', layers: 3, heads: 4, kvHeads: 2, headDim: 16 }, text: { tokens: 40 }, defaults: { alpha: 0.6, rowRatio: 0.05, windowRatio: 0.08 }, layers: Array.from({ length: 3 }, () => ({ heads: Array.from({ length: 4 }, () => ({ alpha: 0.6, rowRatio: 0.05, windowRatio: 0.08 })) })) };
  const cfgFile = join(mkdtempSync(join(tmpdir(), 'sa-faults-cfg-')), 'other-model.json');
  writeFileSync(cfgFile, JSON.stringify(good));
  await page.getByLabel('Import config').setInputFiles(cfgFile);
  const msg = page.getByRole('alert').filter({ hasText: 'other-model.json' });
  await msg.waitFor({ timeout: STEP_MS });
  assert.match((await msg.textContent()) ?? '', /was made for another model \(other\).*model\.layers: config 3, model 2/s);
  assert.equal(await page.getByTestId('value-alpha').textContent(), '0.850');
  assert.equal(await page.getByTestId('value-windowRatio').textContent(), '0.200');
  await screenshot(page, 'faults-8-config-for-another-model');
  console.log(`bad input checks: ${Date.now() - tBad} ms`);
  assert.deepEqual(unexpectedErrors(st.errors), []);
});
