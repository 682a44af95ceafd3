// Issue 14 part 4 in a real browser (Debian's Chromium, SwiftShader WebGPU): the chosen head
// switched to the `blocks` variant as an override (the variant badge), its block-size select and
// sliders, "Alpha column" moved (the head's measures and stage-1 estimates change), its stages
// drawn (column-block and slash-band bars with their thresholds, kept blocks and bands), its
// latency (stages + block-sparse pass) and alpha sweep, and the export writing that head as
// blocks; then the rival panel at that head's setting and Auto-tune over both variants. The
// fixture model (2 layers x 4 heads) and 128 tokens keep it to a few minutes. Screenshots:
// test-results/screenshots/variant-blocks.png, variant-rivals.png, variant-tuned.png.
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
  const mine = (await page.getByTestId('tune-report').locator('rect title').allTextContents()).find((t) => t.startsWith(`${HEAD}:`))!;
  assert.equal(await page.getByTestId('variant-blocks').isChecked(), / blocks: /.test(mine), mine);
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
  // Latency times the blocks head's own kernels (stages + block-sparse pass; or says the adapter
  // has no timestamps), and the sweep moves its two alphas together at its block size.
  await page.waitForFunction(() => /blocks: stages 1\+2/.test(document.querySelector('[data-testid="latency-variant"]')?.textContent ?? '') || /no timestamp-query/.test(document.querySelector('section[aria-label="Measures"]')?.textContent ?? ''), null, { timeout: STEP_MS });
  if (await page.getByTestId('latency-f32').count()) assert.match((await page.getByTestId('latency-f32').textContent())!, /dense [\d.]+ ms · stages [\d.]+ ms \+ block-sparse [\d.]+ ms/);
  await page.getByTestId('sweep-caption').filter({ hasText: 'alphaColumn = alphaSlash move (this head, blocks of 16)' }).waitFor({ timeout: STEP_MS });
  assert.equal(await page.getByTestId('sweep').locator('circle').count(), 10 + 1, 'ten sweep points and the head\'s own');
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

test('rivals at the blocks head\'s own setting; Auto-tune over both variants applies each head\'s choice', async () => {
  const { page } = st;
  const rivals = page.getByRole('region', { name: 'Rival patterns' });
  await rivals.getByRole('button', { name: 'Compare rivals: this head' }).click();
  await page.getByTestId('rivals-head').waitFor({ timeout: STEP_MS });
  assert.match((await page.getByTestId('rivals-head-setting').textContent())!, /blocks: blockSize 16, alphaColumn 0\.5, alphaSlash 0\.5/);
  const patterns = await page.getByTestId('rivals-head').locator('[data-pattern]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-pattern')));
  assert.ok(patterns.includes('sampleattention') && patterns.includes('sampleattention-blocks'), patterns.join(', '));
  assert.equal(await page.getByTestId('rivals-mark').getAttribute('data-mark-pattern'), 'sampleattention-blocks');
  // Its blocks curve's knob names its block size; the point at alpha 0.5 is its operating point.
  const titles = await page.getByTestId('rivals-head').locator('[data-pattern="sampleattention-blocks"] title').allTextContents();
  assert.ok(titles.some((t) => /column = slash \(block 16\) 0\.5:/.test(t)), titles[0]);
  await rivals.scrollIntoViewIfNeeded();
  await screenshot(page, 'variant-rivals');

  const tune = page.getByRole('region', { name: 'Auto-tune' });
  await tune.getByTestId('tune-variant-both').check();
  await tune.getByLabel('Alphas').fill('0.9');
  await tune.getByLabel('Row ratios', { exact: true }).fill('0.05');
  await tune.getByLabel('Window ratios').fill('0.08');
  await tune.getByLabel('Block sizes').fill('16');
  // Low thresholds, so the blocks point is sparse on the fixture (at 0.9 its bands cover the map).
  await tune.getByLabel('Target recall').fill('0.8');
  await tune.getByLabel('Min row recall (P5)').fill('');
  await tune.getByLabel('Alpha columns').fill('0.5');
  await tune.getByLabel('Alpha slashes').fill('0.5');
  await tune.getByLabel('Blocks row ratios').fill('0.05');
  assert.match((await page.getByTestId('tune-points').textContent())!, /^3 grid points \(2 tokens incl\. the full mask, 1 blocks/);
  await tune.getByRole('button', { name: 'Tune', exact: true }).click();
  await page.getByTestId('tune-report').waitFor({ timeout: STEP_MS });
  const counts = /(\d+) heads tokens, (\d+) blocks, (\d+) the full mask/.exec((await page.getByTestId('tune-variants').textContent())!);
  assert.ok(counts, 'the report counts the heads of each variant');
  assert.equal(Number(counts[1]) + Number(counts[2]) + Number(counts[3]), 8);
  // The chosen head now runs what tune chose for it: the sliders show that variant.
  await page.getByText(/Auto-tune applied to 8 heads/).waitFor({ timeout: STEP_MS });
  await page.getByRole('radio', { name: /This head/ }).check();
  const mine = (await page.getByTestId('tune-report').locator('rect title').allTextContents()).find((t) => t.startsWith(`${HEAD}:`))!;
  assert.equal(await page.getByTestId('variant-blocks').isChecked(), / blocks: /.test(mine), mine);
  const blocksCells = await page.getByTestId('tune-report').locator('svg text').filter({ hasText: /^b$/ }).count();
  assert.equal(blocksCells, Number(counts[2]), 'each blocks head is marked b');
  await page.getByRole('region', { name: 'Auto-tune' }).scrollIntoViewIfNeeded();
  await screenshot(page, 'variant-tuned');
  assert.deepEqual(unexpectedErrors(st.errors), []);
});
