// The studio's engine runs in a dedicated Web Worker (src/engine/engine.worker.ts): the header says
// so, the grid of heads is drawn through it, the main thread stays responsive while the worker
// loads, prefills and selects, and Cancel reaches the worker. For comparison the first load is
// measured with the engine on the main thread (?engine=main), which is only reported (and shows
// the main-thread fallback works).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import { openStudio, screenshot, waitReady } from './helpers/browser';

const READY_MS = 240_000;
// Bounds on the main thread's stalls while the engine opens, loads, prefills and selects in the
// worker, counted from the studio's first engine message (the page's own start-up is not counted).
// Measured here over several runs (2 cores shared with SwiftShader's GPU process and other test
// runs, Vite dev server, React development build): longest task 140-290 ms, longest heartbeat gap
// 230-430 ms (up to 620 / 770 ms when the page start-up was counted too). What is left on the
// main thread is React and layout redrawing 64 heads after each layer: a CPU profile of a re-run
// shows no engine code there. A frame budget (16 ms) cannot be promised on this machine; the
// bounds sit above that noise and below a one-second freeze. On this small 8 M-parameter model the main-thread engine (the comparison test) stalls 0.3-1.4 s; its
// weight conversion and tokenization grow with the checkpoint, the worker's main thread does not.
const MAX_TASK_MS = 700;
const MAX_STALL_MS = 1000;

interface Beat {
  maxGap: number;
  p99: number;
  beats: number;
  longestTask: number;
  seen: string[];
}

// The page scripts are strings: tsx compiles this file with names kept (a `__name` helper the page
// does not have), so functions passed to page.evaluate would not run there.
const START_HEARTBEAT = `(() => {
  // Counted from the first engine message on ("Looking for WebGPU...", then Loading, Tokenizing...):
  // the page's own start-up before it (module evaluation, first render) is not the engine's doing.
  const hb = { gaps: [], tasks: [], last: performance.now(), since: Infinity, seen: new Set(), stop: false };
  window.__hb = hb;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) hb.tasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask' });
  } catch {}
  const beat = () => {
    const now = performance.now();
    const s = document.querySelector('[data-testid="status"]')?.textContent ?? '';
    const phase = /^(Looking for WebGPU|Loading|Tokenizing|Prefill|SampleAttention|Cancelled)/.exec(s)?.[1];
    if (phase) {
      hb.seen.add(phase);
      if (hb.since === Infinity) hb.since = hb.last;
    }
    if (hb.last >= hb.since) hb.gaps.push(now - hb.last);
    hb.last = now;
    if (!hb.stop) setTimeout(beat, 10);
  };
  setTimeout(beat, 10);
})()`;

const STOP_HEARTBEAT = `(() => {
  const hb = window.__hb;
  hb.stop = true;
  const sorted = [...hb.gaps].sort((a, b) => a - b);
  const longestTask = Math.max(0, ...hb.tasks.filter(([t]) => t >= hb.since).map(([, d]) => d));
  return { maxGap: sorted.at(-1) ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0, beats: sorted.length, longestTask, seen: [...hb.seen] };
})()`;

/** Starts a 10 ms heartbeat on the page's main thread: every late beat is time the thread was busy. */
async function startHeartbeat(page: Page): Promise<void> {
  await page.evaluate(START_HEARTBEAT);
}

async function stopHeartbeat(page: Page): Promise<Beat> {
  return (await page.evaluate(STOP_HEARTBEAT)) as Beat;
}

/** A new token limit: the text is tokenized, prefilled and selected again (the same path as a new text). */
async function rerun(page: Page, tokens: number): Promise<void> {
  const box = page.getByRole('spinbutton', { name: 'Max tokens', exact: true });
  await box.fill(String(tokens));
  await box.blur();
}

const fmt = (b: Beat) => `longest gap ${b.maxGap.toFixed(0)} ms, p99 ${b.p99.toFixed(0)} ms over ${b.beats} beats, longest task ${b.longestTask.toFixed(0)} ms, phases seen: ${b.seen.join(', ')}`;

test('the engine runs in a worker and the main thread stays responsive', async () => {
  const st = await openStudio('/?maxTokens=96&fresh');
  try {
    const { page } = st;
    // From page load: loading the model (bytes), tokenizing, prefill, SampleAttention of every layer.
    await startHeartbeat(page);
    await waitReady(page, READY_MS);
    const first = await stopHeartbeat(page);
    console.log(`worker engine, first load: ${fmt(first)}`);
    assert.match((await page.getByTestId('adapter').textContent()) ?? '', /^WebGPU: .+ · engine in a worker$/);
    assert.equal(await page.getByTestId('tokens').textContent(), '96');
    await screenshot(page, 'studio-worker');

    // A re-run measured from its start: tokenize, prefill, selection of every layer.
    await startHeartbeat(page);
    await rerun(page, 80);
    await page.getByTestId('tokens').filter({ hasText: /^80$/ }).waitFor({ timeout: READY_MS });
    await waitReady(page, READY_MS);
    const again = await stopHeartbeat(page);
    console.log(`worker engine, re-run (80 tokens): ${fmt(again)}`);
    assert.ok(again.seen.includes('Prefill') || again.seen.includes('SampleAttention'), `the heartbeat did not see the prefill: ${fmt(again)}`);
    for (const [what, b] of [['first load', first], ['re-run', again]] as const) {
      assert.ok(b.longestTask < MAX_TASK_MS, `${what}: a main-thread task took ${b.longestTask.toFixed(0)} ms (bound ${MAX_TASK_MS} ms): ${fmt(b)}`);
      assert.ok(b.maxGap < MAX_STALL_MS, `${what}: the main thread stalled for ${b.maxGap.toFixed(0)} ms (bound ${MAX_STALL_MS} ms): ${fmt(b)}`);
    }

    // Cancel reaches the worker: a re-run stops with the cancelled message.
    await rerun(page, 64);
    await page.waitForFunction(() => /Prefill|SampleAttention/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ''), null, { timeout: READY_MS });
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByTestId('status').filter({ hasText: /^Cancelled\./ }).waitFor({ timeout: 60_000 });
    const unexpected = st.errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));
    assert.deepEqual(unexpected, []);
  } finally {
    await st.close();
  }
});

test('for comparison: the first load with the engine on the main thread (?engine=main)', async () => {
  const st = await openStudio('/?maxTokens=96&fresh&engine=main');
  try {
    const { page } = st;
    await startHeartbeat(page);
    await waitReady(page, READY_MS);
    const first = await stopHeartbeat(page);
    console.log(`main-thread engine, first load: ${fmt(first)}`);
    assert.match((await page.getByTestId('adapter').textContent()) ?? '', /· engine on the main thread$/);
  } finally {
    await st.close();
  }
});

test('a picked checkpoint folder loads through the worker', async () => {
  const st = await openStudio('/?model=fixture-llama3&maxTokens=32&fresh');
  try {
    const { page } = st;
    await waitReady(page, READY_MS);
    const input = page.getByLabel('Open checkpoint folder', { exact: true });
    await input.setInputFiles(join(process.cwd(), 'public/models/fixture-llama3'));
    // Does a File posted to a worker keep webkitRelativePath? (source.ts posts the paths anyway.)
    const paths = await input.evaluate(async (el) => {
      const f = (el as HTMLInputElement).files![0] as File & { webkitRelativePath: string };
      const w = new Worker(URL.createObjectURL(new Blob(['onmessage = (e) => postMessage(e.data.webkitRelativePath)'], { type: 'text/javascript' })));
      const inWorker = await new Promise<string>((r) => {
        w.onmessage = (e) => r(String(e.data));
        w.postMessage(f);
      });
      w.terminate();
      return { page: f.webkitRelativePath, worker: inWorker };
    });
    console.log(`webkitRelativePath on the page: "${paths.page}", after posting to a worker: "${paths.worker}"`);
    assert.match(paths.page, /^fixture-llama3\//);
    await page.getByRole('option', { name: 'fixture-llama3 (picked)', exact: true }).waitFor({ state: 'attached', timeout: READY_MS });
    await page.getByTestId('tokens').filter({ hasText: /^32$/ }).waitFor({ timeout: READY_MS });
    await waitReady(page, READY_MS);
    assert.equal(await page.getByTestId('model-name').textContent(), 'fixture-llama3');
    assert.match((await page.getByTestId('adapter').textContent()) ?? '', /engine in a worker$/);
  } finally {
    await st.close();
  }
});
