// Issue 14 part 4 in a real browser (Debian's Chromium, SwiftShader WebGPU): the chosen head
// switched to the `blocks` variant as an override (the variant badge), its block-size select and
// sliders, "Alpha column" moved (the head's measures and stage-1 estimates change), its stages
// drawn (column-block and slash-band bars with their thresholds, kept blocks and bands), latency
// named tokens-only, and the export writing that head as blocks. The fixture model (2 layers x 4
// heads) and 128 tokens keep it to about two minutes. Screenshot: test-results/screenshots/variant-blocks.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openStudio, screenshot, unexpectedErrors, waitReady, type Studio } from './helpers/browser';
import { parseConfig } from '../../src/sampleattention/formats/config-file';

const TOKENS = 128;
const READY_MS = 180_000;
const STEP_MS = 60_000;
const HEAD = 'Layer 1 head 2';

let st: Studio;

before(async () => {
  st = await openStudio(`/?model=fixture-llama3&maxTokens=${TOKENS}&fresh`);
  await waitReady(st.page, READY_MS);
});

after(async () => {
  await st?.close();
});

test('the chosen head as blocks: override badge, block size, Alpha column moves its measures, stages drawn, exported', async () => {
  const { page } = st;
  await page.getByRole('button', { name: HEAD, exact: true }).click();
  await page.getByTestId('head-title').filter({ hasText: HEAD }).waitFor({ timeout: STEP_MS });
  await page.getByRole('radio', { name: /This head/ }).check();
  await page.getByTestId('variant-blocks').check();
  // The head's measures now show the blocks stage-1 estimates; the variant is its override.
  await page.getByTestId('head-stage1-blocks').waitFor({ timeout: STEP_MS });
  await page.locator('.variant .badge').waitFor({ timeout: STEP_MS });
  // 128 tokens: the spec's 128 is one block; take 16 (8 blocks and bands).
  assert.equal(await page.getByTestId('value-blockSize').textContent(), '128');
  await page.getByLabel('Block size').selectOption('16');
  await page.getByTestId('head-kept').filter({ hasText: 'blocks of 16' }).waitFor({ timeout: STEP_MS });
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });
  assert.equal(await page.getByTestId('value-alphaColumn').textContent(), '0.950');
  assert.equal(await page.getByTestId('value-alphaSlash').textContent(), '0.950');
  // At alphaSlash 0.95 the bands with the sink column block cover the fixture's whole map: lower
  // it first, so the column blocks decide part of the mask.
  const kept0 = await page.getByTestId('head-kept').textContent();
  await page.getByRole('slider', { name: 'Alpha slash', exact: true }).fill('0.5');
  await page.waitForFunction((k) => document.querySelector('[data-testid="head-kept"]')?.textContent !== k, kept0, { timeout: STEP_MS });
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });
  const est0 = await page.getByTestId('head-stage1-blocks').textContent();
  const density0 = await page.getByTestId('head-density').textContent();
  await page.getByRole('slider', { name: 'Alpha column', exact: true }).fill('0.5');
  assert.equal(await page.getByTestId('value-alphaColumn').textContent(), '0.500');
  await page.waitForFunction(([e, d]) => document.querySelector('[data-testid="head-stage1-blocks"]')?.textContent !== e && document.querySelector('[data-testid="head-density"]')?.textContent !== d, [est0, density0], { timeout: STEP_MS });
  await page.locator('.slider .badge').first().waitFor({ timeout: STEP_MS });
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });
  // Stage 1 >= alphaColumn on the head's column estimate.
  const col = Number(/column ([\d.]+)/.exec((await page.getByTestId('head-stage1-blocks').textContent()) ?? '')?.[1]);
  assert.ok(col >= 0.5 - 1e-3 && col <= 1, `column estimate ${col}`);
  // The other heads stay tokens: the model's measures show both variants' estimates.
  await page.getByTestId('model-stage1').waitFor({ timeout: STEP_MS });
  await page.getByTestId('model-stage1-blocks').waitFor({ timeout: STEP_MS });
  await page.getByText(/latency: tokens heads only/).waitFor({ timeout: STEP_MS });
  // The stages by their blocks names, up to the kept slash bands; both bar charts drawn.
  await page.getByRole('button', { name: '4. Stage 2: kept slash bands' }).click();
  assert.equal(await page.getByTestId('current-stage').textContent(), 'Showing: Stage 2: kept slash bands');
  await page.getByRole('img', { name: 'Stage 1 slash-band scores by band' }).waitFor({ timeout: STEP_MS });
  const drawn = await page.evaluate(() => [...document.querySelectorAll('canvas[aria-label^="Stage 1"]')].map((c) => {
    const g = (c as HTMLCanvasElement).getContext('2d')!;
    const d = g.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
    let lit = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) lit++;
    return lit;
  }));
  assert.equal(drawn.length, 2);
  assert.ok(drawn.every((n) => n > 100), `both bar charts have bars: ${drawn}`);
  await screenshot(page, 'variant-blocks');
  // Exported: that head as blocks with its values, the others tokens.
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: STEP_MS }), page.getByRole('button', { name: 'Export config' }).click()]);
  const file = join(mkdtempSync(join(tmpdir(), 'sa-variant-')), 'config.json');
  await download.saveAs(file);
  const cfg = parseConfig(readFileSync(file, 'utf8'), 'exported');
  const h = cfg.layers[1].heads[2];
  assert.equal(h.variant, 'blocks');
  assert.deepEqual([h.variant === 'blocks' && h.blockSize, h.variant === 'blocks' && h.alphaColumn], [16, 0.5]);
  assert.equal(cfg.layers[0].heads[0].variant, 'tokens');
  assert.deepEqual(unexpectedErrors(st.errors), []);
});
