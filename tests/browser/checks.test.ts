// The model-wide checks in a real browser (Debian's Chromium, SwiftShader WebGPU): "Tune" runs
// with progress and becomes every head's parameters; "Export config" then `sa-studio eval --config`
// in Node (Dawn) on the same text and token limit gives the numbers the studio's near-lossless
// check shows; the rival patterns' curves are drawn beside SampleAttention's for a head and for
// the model. Screenshots go to test-results/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Page } from 'playwright-core';
import { openStudio, screenshot, unexpectedErrors, waitReady, type Studio } from './helpers/browser';
import { evalCommand, type EvalReport } from '../../cli/eval';

const TOKENS = 96;
const PATH = `/?maxTokens=${TOKENS}&fresh`;
const TEXT = join(process.cwd(), 'public/texts/prose-nodejs-pull-requests.md');
const STEP_MS = 240_000;
// The studio shows 3-4 significant decimals, and Chromium's SwiftShader and Node's Dawn may sum in
// different orders: 2e-3 relative (or 1e-4 absolute) covers display rounding, not a wrong figure.
const close = (a: number, b: number) => Math.abs(a - b) <= Math.max(1e-4, 2e-3 * Math.abs(b));

let st: Studio;

const num = async (page: Page, id: string) => Number((await page.getByTestId(id).textContent())!.replace('%', ''));

before(async () => {
  st = await openStudio(PATH);
  await waitReady(st.page);
});

after(async () => {
  await st?.close();
});

test('Tune shows progress, applies per-head settings, and reports density per head', async () => {
  const { page } = st;
  const tune = page.getByRole('region', { name: 'Auto-tune' });
  await tune.getByLabel('Alphas').fill('0.8, 0.95');
  await tune.getByLabel('Row ratios').fill('0.05');
  await tune.getByLabel('Window ratios').fill('0, 0.08, 1');
  await tune.getByLabel('Target recall').fill('0.95');
  await tune.getByLabel('Min row recall (P5)').fill('0.8');
  await tune.getByRole('button', { name: 'Tune', exact: true }).click();
  await page.getByTestId('task-tune').waitFor({ timeout: STEP_MS });
  await page.getByTestId('tune-report').waitFor({ timeout: STEP_MS });
  assert.match((await page.getByTestId('tune-met').textContent())!, /^64 of 64$/);
  const density = await num(page, 'tune-density');
  assert.ok(density > 0 && density < 1, `tuned density ${density}`);
  // The result is now the studio's parameters: heads whose choice differs from the defaults are marked.
  await page.waitForFunction(() => document.querySelectorAll('.overview .over-dot').length > 0, null, { timeout: STEP_MS });
  await screenshot(page, 'checks-tuned');
});

test('the near-lossless check shows the figures `sa-studio eval` gives for the exported config', async () => {
  const { page } = st;
  const check = page.getByRole('region', { name: 'Near-lossless check' });
  await check.getByRole('button', { name: 'Run check' }).click();
  await page.getByTestId('check-report').waitFor({ timeout: STEP_MS });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: STEP_MS }), page.getByRole('button', { name: 'Export config' }).click()]);
  const dir = mkdtempSync(join(tmpdir(), 'sa-checks-'));
  await download.saveAs(join(dir, 'tuned.json'));
  const rc = await evalCommand(['--model', 'default', '--text', TEXT, '--max-tokens', String(TOKENS), '--config', join(dir, 'tuned.json'), '--passkey-lengths', 'none', '--json', join(dir, 'eval.json')]);
  assert.equal(rc, 0);
  const cli = (JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as EvalReport).texts[0];
  assert.equal(await num(page, 'check-tokens'), cli.tokens);
  const pairs: [string, number][] = [
    ['check-meanKl', cli.meanKl], ['check-top1', cli.top1Agreement], ['check-pplDense', cli.pplDense], ['check-pplSparse', cli.pplSparse],
    ['check-recall', cli.selection.recallMean], ['check-worstP5', cli.selection.worstRecallP5], ['check-density', cli.selection.density],
  ];
  for (const [id, want] of pairs) {
    const got = await num(page, id);
    assert.ok(close(got, want), `${id}: studio ${got}, sa-studio eval ${want}`);
  }
  const change = await num(page, 'check-pplChange');
  assert.ok(Math.abs(change - cli.pplChangePct) <= 0.02, `perplexity change: studio ${change}%, sa-studio eval ${cli.pplChangePct}%`);
  await screenshot(page, 'checks-eval');
});

test('rival patterns: curves for the chosen head and for the model, SampleAttention among them', async () => {
  const { page } = st;
  const rivals = page.getByRole('region', { name: 'Rival patterns' });
  await rivals.getByRole('button', { name: 'Compare rivals: this head' }).click();
  await page.getByTestId('rivals-head').waitFor({ timeout: STEP_MS });
  await rivals.getByRole('button', { name: 'Compare rivals: every head' }).click();
  await page.getByTestId('rivals-model').waitFor({ timeout: STEP_MS });
  for (const id of ['rivals-head', 'rivals-model']) {
    const patterns = await page.getByTestId(id).locator('[data-pattern]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-pattern')));
    assert.deepEqual([...patterns].sort(), ['block-topk', 'oracle', 'sampleattention', 'sampleattention-blocks', 'streamingllm', 'vertical-slash']);
    const d = await page.getByTestId(id).locator('[data-pattern] path').evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? ''));
    for (const path of d) assert.ok(path.length > 10 && !/NaN/.test(path), `curve path ${path}`);
  }
  // At density 0.5 the oracle is at least as good as every other pattern (same heads, same measure).
  const rows = await page.getByTestId('rivals-model-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
  const at05 = Object.fromEntries(rows.map((r) => [r[0], Number(r[4])]));
  for (const [p, r] of Object.entries(at05)) if (Number.isFinite(r)) assert.ok(r <= at05.oracle + 1e-3, `${p} recall ${r} above the oracle's ${at05.oracle}`);
  await page.getByRole('region', { name: 'Rival patterns' }).scrollIntoViewIfNeeded();
  await screenshot(page, 'checks-rivals');
  assert.deepEqual(unexpectedErrors(st.errors), []);
});
