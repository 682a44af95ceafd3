// The studio in a real browser (Debian's Chromium, headless, WebGPU on SwiftShader): it opens on
// the bundled default model with a short prefix of the default text (SwiftShader is slow), draws every head, shows a
// chosen head, steps through the overlays, recomputes when "Alpha" moves, exports a config that
// imports back identically, reports a bad config exactly, and survives a reload. Screenshots go
// to test-results/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Page } from 'playwright-core';
import { SCREENSHOTS, openStudio, screenshot, type Studio, waitReady, unexpectedErrors } from './helpers/browser';
import { OVERLAYS } from '../../src/state/store';
import { parseConfig } from '../../src/sampleattention/formats/config-file';

const PATH = '/?maxTokens=128&fresh';
// Generous but bounded: loading, prefill and SampleAttention of 8 layers at S = 128 take well
// under a minute on SwiftShader on a 2-core machine; background latency and sweep runs add more.
const READY_MS = 180_000;
const STEP_MS = 60_000;

let st: Studio;

/** Share of the canvas's pixels that are not (near) black: a drawn map has many. */
async function litFraction(page: Page, label: string): Promise<number> {
  return page.getByRole('img', { name: label, exact: true }).evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const g = c.getContext('2d')!;
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 60) lit++;
    return lit / (d.length / 4);
  });
}

async function canvasHash(page: Page, label: string): Promise<string> {
  return page.getByRole('img', { name: label, exact: true }).evaluate((el) => (el as HTMLCanvasElement).toDataURL());
}

before(async () => {
  st = await openStudio(PATH);
  await waitReady(st.page);
});

after(async () => {
  await st?.close();
});

test('opens on the default model with every head drawn', async () => {
  const { page } = st;
  assert.match((await page.getByTestId('adapter').textContent()) ?? '', /WebGPU: /);
  assert.equal(await page.getByTestId('model-name').textContent(), 'default');
  assert.equal(await page.getByTestId('tokens').textContent(), '128');
  // The default model has 8 layers x 8 heads: one button per head, each with its map.
  for (let l = 0; l < 8; l++) for (let h = 0; h < 8; h++) await page.getByRole('button', { name: `Layer ${l} head ${h}`, exact: true }).waitFor({ timeout: STEP_MS });
  assert.equal(await page.locator('.overview .cell canvas').count(), 64);
  const lit = await litFraction(page, 'Attention map, Layer 0 head 0');
  // A causal map lights up at least part of its lower triangle.
  assert.ok(lit > 0.05, `the head map looks blank: ${lit} of its pixels are lit`);
  // The precision is always shown; SwiftShader has no shader-f16 or subgroup matrices, so f16 is
  // offered disabled with what it lacks, and the studio computes on the exact f32 kernels.
  assert.equal(await page.getByTestId('precision').inputValue(), 'f32');
  assert.match((await page.getByTestId('precision-path').textContent()) ?? '', /exact f32 kernels/);
  const f16 = page.getByTestId('precision').locator('option[value="f16"]');
  if (await f16.isDisabled()) assert.match((await page.locator('label.precision').getAttribute('title')) ?? '', /shader-f16|subgroup-matrix/);
  await screenshot(page, 'studio-open');
  assert.deepEqual(unexpectedErrors(st.errors), []);
});

test('picking "Layer 0 head 1" shows its view', async () => {
  const { page } = st;
  await page.getByRole('button', { name: 'Layer 0 head 1', exact: true }).click();
  await page.getByTestId('head-title').filter({ hasText: 'Layer 0 head 1' }).waitFor({ timeout: STEP_MS });
  await page.getByRole('img', { name: 'Attention map, Layer 0 head 1', exact: true }).waitFor({ timeout: STEP_MS });
  assert.match((await page.getByRole('heading', { name: /Measures/ }).textContent()) ?? '', /Layer 0 head 1/);
  assert.equal(await page.getByRole('button', { name: 'Layer 0 head 1', exact: true }).getAttribute('aria-pressed'), 'true');
  // Hovering the map names the query and key tokens.
  // With 8 x 8 heads the overview pushes the map below the fold: bring it into view first.
  await page.getByRole('img', { name: 'Attention map, Layer 0 head 1', exact: true }).scrollIntoViewIfNeeded();
  const box = (await page.getByRole('img', { name: 'Attention map, Layer 0 head 1', exact: true }).boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.8);
  const tip = (await page.getByTestId('token-tooltip').textContent()) ?? '';
  assert.match(tip, /query \d+ ".*"key \d+ ".*"/);
  await screenshot(page, 'studio-head-0-1');
});

test('steps through the overlays in algorithm order', async () => {
  const { page } = st;
  const map = 'Attention map, Layer 0 head 1';
  await page.getByRole('button', { name: '0. Attention map' }).click();
  const before = await canvasHash(page, map);
  const seen = new Set([before]);
  for (let i = 1; i < OVERLAYS.length; i++) {
    await page.getByRole('button', { name: 'Next stage' }).click();
    assert.equal(await page.getByTestId('current-stage').textContent(), `Showing: ${OVERLAYS[i]}`);
    if (i === 2) assert.ok(await page.getByRole('img', { name: 'Stage 1 column scores by key' }).isVisible());
    if (i === 3) {
      assert.ok(await page.getByRole('img', { name: 'Stage 2 cumulative column-score curve' }).isVisible());
      await screenshot(page, 'studio-overlay-3-stripes');
      // The cumulative curve sits below the fold: one full-page shot shows it.
      await page.screenshot({ path: join(SCREENSHOTS, 'studio-overlay-3-full-page.png'), fullPage: true });
    }
    if (i === 4) await screenshot(page, 'studio-overlay-4-window');
    seen.add(await canvasHash(page, map));
  }
  await screenshot(page, 'studio-overlay-6-missed');
  // Stage 2 (bars only) leaves the map as stage 1 left it; every other step changes it.
  assert.ok(seen.size >= OVERLAYS.length - 1, `only ${seen.size} distinct map images over ${OVERLAYS.length} overlays`);
  assert.equal(await page.getByRole('button', { name: 'Next stage' }).isDisabled(), true);
});

test('moving "Alpha" recomputes Recall and Density', async () => {
  const { page } = st;
  const recall0 = await page.getByTestId('head-recall').textContent();
  const density0 = await page.getByTestId('head-density').textContent();
  const slider = page.getByRole('slider', { name: 'Alpha', exact: true });
  assert.equal(await slider.inputValue(), '0.95');
  await slider.fill('0.6');
  assert.equal(await page.getByTestId('value-alpha').textContent(), '0.600');
  await page.waitForFunction(([r, d]) => document.querySelector('[data-testid="head-recall"]')?.textContent !== r && document.querySelector('[data-testid="head-density"]')?.textContent !== d, [recall0, density0], { timeout: STEP_MS });
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });
  assert.match((await page.getByTestId('recompute-time').textContent()) ?? '', /in \d+ ms/);
  // Row ratio and Window ratio are real range inputs too, with their values shown.
  assert.equal(await page.getByRole('slider', { name: 'Row ratio', exact: true }).inputValue(), '0.05');
  assert.equal(await page.getByRole('slider', { name: 'Window ratio', exact: true }).inputValue(), '0.08');
  await screenshot(page, 'studio-alpha-0.6');
});

async function exportText(page: Page): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: STEP_MS }), page.getByRole('button', { name: 'Export config' }).click()]);
  const file = join(mkdtempSync(join(tmpdir(), 'sa-export-')), 'config.json');
  await download.saveAs(file);
  return readFileSync(file, 'utf8');
}

test('a per-head override, exported, imports back identically', async () => {
  const { page } = st;
  // An override for the chosen head (Layer 0 head 1), so the file carries per-head values.
  await page.getByRole('radio', { name: /This head/ }).check();
  await page.getByRole('slider', { name: 'Window ratio', exact: true }).fill('0.2');
  await page.locator('.slider .badge').first().waitFor({ timeout: STEP_MS });
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });
  const first = await exportText(page);
  const cfg = parseConfig(first, 'exported');
  assert.equal(cfg.version, 2);
  assert.deepEqual([cfg.layers[0].heads[1].variant, (cfg.layers[0].heads[1] as { windowRatio?: number }).windowRatio], ['tokens', 0.2]);
  assert.equal(cfg.defaults.tokens.alpha, 0.6);
  // Change the state, then import the file back.
  await page.getByRole('button', { name: 'Reset all' }).click();
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });
  assert.notEqual(parseConfig(await exportText(page), 'reset').defaults.tokens.alpha, 0.6);
  const dir = mkdtempSync(join(tmpdir(), 'sa-import-'));
  writeFileSync(join(dir, 'exported.json'), first);
  await page.getByLabel('Import config').setInputFiles(join(dir, 'exported.json'));
  await page.getByTestId('config-message').filter({ hasText: 'Imported exported.json' }).waitFor({ timeout: STEP_MS });
  const second = await exportText(page);
  assert.equal(second, first);
  await screenshot(page, 'studio-config-imported');
});

test('a bad config file gets the exact error', async () => {
  const { page } = st;
  const good = parseConfig(await exportText(page), 'good');
  const bad = JSON.parse(JSON.stringify(good));
  bad.layers[1].heads[2].alpha = 1.7;
  delete bad.defaults.rowRatio;
  const text = JSON.stringify(bad);
  let expected = '';
  try {
    parseConfig(text, 'bad-config.json');
  } catch (e) {
    expected = (e as Error).message;
  }
  assert.match(expected, /layers\[1\]\.heads\[2\]\.alpha: 1\.7 is outside \(0, 1\]/);
  const dir = mkdtempSync(join(tmpdir(), 'sa-bad-'));
  writeFileSync(join(dir, 'bad-config.json'), text);
  await page.getByLabel('Import config').setInputFiles(join(dir, 'bad-config.json'));
  const msg = page.getByRole('alert').filter({ hasText: 'bad-config.json' });
  await msg.waitFor({ timeout: STEP_MS });
  assert.equal(await msg.textContent(), expected);
  await screenshot(page, 'studio-bad-config');
});

test('the 3D view draws the stack', async () => {
  const { page } = st;
  await page.getByRole('tab', { name: '3D' }).click();
  await page.locator('.stack3d canvas').waitFor({ timeout: STEP_MS });
  await page.waitForTimeout(2000);
  await screenshot(page, 'studio-3d');
  await page.getByRole('tab', { name: 'Grid' }).click();
  assert.deepEqual(unexpectedErrors(st.errors), []);
});

test('parameters and the chosen head survive a reload', async () => {
  const { page, url } = st;
  await page.goto(url + '/?maxTokens=128');
  await waitReady(page);
  assert.equal(await page.getByTestId('value-alpha').textContent(), '0.600');
  await page.getByTestId('head-title').filter({ hasText: 'Layer 0 head 1' }).waitFor({ timeout: STEP_MS });
  await screenshot(page, 'studio-reloaded');
});

test('the passkey generator makes a text, runs it, and names the hidden key', async () => {
  const { page } = st;
  await page.getByLabel('Passkey length').fill('400');
  await page.getByLabel('Passkey depth').fill('0.25');
  await page.getByRole('button', { name: 'Make passkey text' }).click();
  const note = page.getByTestId('passkey');
  await note.waitFor({ timeout: STEP_MS });
  assert.match((await note.textContent()) ?? '', /Hidden pass key: \d{5}/);
  await page.locator('dd', { hasText: 'passkey, ~400 tokens, depth 0.25, seed 1' }).waitFor({ timeout: READY_MS });
  await waitReady(page);
  assert.equal(await page.getByTestId('tokens').textContent(), '128');
  await screenshot(page, 'studio-passkey');
  assert.deepEqual(unexpectedErrors(st.errors), []);
});
