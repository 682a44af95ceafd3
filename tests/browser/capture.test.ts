// Issue 16 in a real browser (Debian's Chromium, SwiftShader WebGPU): a capture file written by
// `sa-studio capture` (the llama3 fixture, 64 tokens) opened through "Open capture..." shows every
// head and a head view without the model, names itself in the header, says why the model's check
// is off, recomputes when "Alpha" moves, and the rival panel imports a MInference config whose
// point appears beside SampleAttention's; kernel latency is timed on the captured head, and a file
// dropped onto the page opens as a picked one does. Screenshot: test-results/screenshots/capture-open.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openStudio, screenshot, unexpectedErrors, waitReady, type Studio } from './helpers/browser';
import { captureCommand } from '../../cli/capture';

const MODEL = join(process.cwd(), 'public/models/fixture-llama3');
const TEXT = join(process.cwd(), 'public/texts/prose-nodejs-pull-requests.md');
const S = 64;
const READY_MS = 180_000;
const STEP_MS = 120_000;
const dir = mkdtempSync(join(tmpdir(), 'sa-capture-browser-'));
const FILE = join(dir, 'fixture-capture.safetensors');
const MI = join(dir, 'mi.json');

let st: Studio;

before(async () => {
  const log = console.log;
  console.log = () => undefined;
  try {
    assert.equal(await captureCommand(['--model', MODEL, '--text', TEXT, '--max-tokens', String(S), '--out', FILE]), 0);
  } finally {
    console.log = log;
  }
  writeFileSync(MI, JSON.stringify([0, 1].map(() => Object.fromEntries([0, 1, 2, 3].map((h) => [String(h), ['vertical_and_slash', 30, 50, 0.9]])))));
  // The small fixture model first (the studio opens on a model), then the capture replaces it.
  st = await openStudio('/?model=fixture-llama3&maxTokens=32&fresh');
  await waitReady(st.page, READY_MS);
});

after(async () => {
  await st?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a capture opens without the model: heads, head view, a slider, and a MInference file in the rival panel', async () => {
  const { page } = st;
  await page.getByLabel('Open capture file').setInputFiles(FILE);
  await page.getByTestId('capture-badge').filter({ hasText: `capture: fixture-capture.safetensors (fixture-llama3, ${S} tokens, 2 layers)` }).waitFor({ timeout: STEP_MS });
  await waitReady(page, READY_MS);
  await page.getByRole('button', { name: 'Layer 1 head 3', exact: true }).click();
  await page.getByTestId('head-title').filter({ hasText: 'Layer 1 head 3' }).waitFor({ timeout: STEP_MS });
  await page.getByRole('img', { name: 'Attention map, Layer 1 head 3', exact: true }).waitFor({ timeout: STEP_MS });
  assert.match((await page.getByTestId('capture-info').textContent())!, /fixture-capture\.safetensors.*fixture-llama3.*layers2: 0, 1.*tokens64/);
  assert.match((await page.getByTestId('capture-limits').textContent())!, /at most \d+ tokens/);
  assert.match((await page.getByTestId('check-off').textContent())!, /Off for a capture: .*run the model/);
  assert.equal(await page.getByRole('region', { name: 'Near-lossless check' }).getByRole('button', { name: 'Run check' }).isDisabled(), true);

  const recall0 = await page.getByTestId('head-recall').textContent();
  const density0 = await page.getByTestId('head-density').textContent();
  await page.getByRole('slider', { name: 'Alpha', exact: true }).fill('0.6');
  await page.waitForFunction(([r, d]) => document.querySelector('[data-testid="head-recall"]')?.textContent !== r && document.querySelector('[data-testid="head-density"]')?.textContent !== d, [recall0, density0], { timeout: STEP_MS });
  await page.getByTestId('recompute-time').filter({ hasText: 'whole model' }).waitFor({ timeout: STEP_MS });

  // Kernel latency times the captured head's dense and sparse passes (no model needed).
  await page.getByTestId('latency-f32').filter({ hasText: /dense \d+(\.\d+)? ms · sparse \d+(\.\d+)? ms/ }).waitFor({ timeout: STEP_MS });

  await page.getByLabel('Import MInference config').setInputFiles(MI);
  await page.getByTestId('minference-point').waitFor({ timeout: STEP_MS });
  assert.match((await page.getByTestId('minference-point').textContent())!, /density 0\.\d{4}, recall 0\.\d{4}|density 1\.0000, recall 1\.0000/);
  assert.match((await page.getByTestId('rivals-model-table').textContent())!, /minference/);
  await page.getByRole('region', { name: 'Rival patterns' }).scrollIntoViewIfNeeded();
  await screenshot(page, 'capture-rivals');
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'capture-open');
  assert.deepEqual(unexpectedErrors(st.errors), []);
});

test('a capture dropped onto the page opens as the picked one does', async () => {
  const { page } = st;
  const dt = await page.evaluateHandle(({ b, name }) => {
    const d = new DataTransfer();
    d.items.add(new File([new Uint8Array(b)], name));
    return d;
  }, { b: Array.from(readFileSync(FILE)), name: 'dropped.safetensors' });
  await page.dispatchEvent('.studio', 'drop', { dataTransfer: dt });
  await page.getByTestId('capture-badge').filter({ hasText: `capture: dropped.safetensors (fixture-llama3, ${S} tokens, 2 layers)` }).waitFor({ timeout: STEP_MS });
  await waitReady(page, READY_MS);
  assert.match((await page.getByTestId('capture-info').textContent())!, /dropped\.safetensors/);
  assert.deepEqual(unexpectedErrors(st.errors), []);
});
