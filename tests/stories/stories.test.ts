// Every Storybook story as a test, in Debian's Chromium (headless, WebGPU on SwiftShader), driven
// by playwright-core with the browser tests' flags; no browser download. Builds the static
// Storybook (npm run build-storybook, a few seconds), serves it with a tiny node:http server, reads
// storybook-static/index.json for the stories and opens each one's iframe alone:
// - Kernels/ stories must report "matches reference" (the kernel's output against its float64
//   reference, see stories/kernel-harness.tsx) with no page or console errors;
// - every other story must render without Storybook's error display and without errors.
// A screenshot of each goes to test-results/screenshots/stories/<story id>.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS } from '../browser/helpers/browser';

const ROOT = process.cwd();
const STATIC = join(ROOT, 'storybook-static');
const SHOTS = join(SCREENSHOTS, 'stories');
// SwiftShader runs the kernels on the CPU; a story's run plus its float64 reference takes a few
// seconds at the default sizes, so 90 s only catches a hang.
const STORY_MS = 90_000;
// Kernel stories run on fresh inputs each time (their `seed` arg, set through the URL); the seed is
// in each test's name, so SEED=<seed> replays a failure.
const SEED = process.env.SEED ? Number(process.env.SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;

interface IndexEntry { id: string; title: string; name: string; type: string }

function build(): IndexEntry[] {
  const r = spawnSync('npm', ['run', 'build-storybook'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`npm run build-storybook failed (status ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${(r.stdout ?? '').slice(-3000)}\n${(r.stderr ?? '').slice(-3000)}`);
  const index = JSON.parse(readFileSync(join(STATIC, 'index.json'), 'utf8')) as { entries: Record<string, IndexEntry> };
  return Object.values(index.entries).filter((e) => e.type === 'story');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ico': 'image/x-icon', '.map': 'application/json',
};

/** Serves storybook-static on 127.0.0.1 at a free port. */
async function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    // Chromium asks for /favicon.ico on its own; Storybook has none, and a 404 is a console error.
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    const file = normalize(join(STATIC, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(STATIC + sep)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { server, url: `http://127.0.0.1:${port}` };
}

// Built before the tests are declared: node:test needs the story list to name one test per story.
const stories = build();

describe('Storybook stories in headless Chromium', () => {
  let server: Server;
  let url: string;
  let browser: Browser;

  before(async () => {
    ({ server, url } = await serve());
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await new Promise((ok) => server?.close(ok));
  });

  test('the build lists a Kernels/ story for each kernel family and the Components/ stories', () => {
    const titles = new Set(stories.map((s) => s.title));
    for (const t of ['Matmul', 'Normalisation', 'RoPE', 'Dense flash attention', 'Stage 1 sampled scores', 'Stage 2 key selection', 'Sparse attention', 'Pooled maps', 'Recall']) {
      assert.ok(titles.has(`Kernels/${t}`), `no story titled Kernels/${t}; found ${[...titles].join(', ')}`);
    }
    assert.ok(stories.some((s) => s.title.startsWith('Components/')), 'no Components/ stories');
  });

  test('a kernel story shows the wrapper\'s error for a bad shape (heads 3 over kvHeads 2) instead of a result', { timeout: STORY_MS }, async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${url}/iframe.html?id=kernels-dense-flash-attention--random&viewMode=story&args=heads:3;kvHeads:2`);
      await page.waitForFunction(() => document.querySelector('[data-testid="kernel-status"]')?.getAttribute('data-state') === 'error', undefined, { timeout: STORY_MS });
      const text = (await page.getByTestId('kernel-status').textContent()) ?? '';
      assert.match(text, /^error: dense attention: heads \(3\) is not a multiple of kvHeads \(2\)/, text);
      assert.doesNotMatch(text, /matches reference/);
    } finally {
      await page.close();
    }
  });

  for (const s of stories) {
    const kernel = s.title.startsWith('Kernels/');
    test(`${s.title} / ${s.name} ${kernel ? `matches its float64 reference (SEED=${SEED})` : 'renders'} (${s.id})`, { timeout: STORY_MS + 30_000 }, async () => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      try {
        await page.goto(`${url}/iframe.html?id=${encodeURIComponent(s.id)}&viewMode=story${kernel ? `&args=seed:${SEED}` : ''}`);
        // Storybook marks the body when the story is shown, or when it threw while rendering.
        await page.waitForFunction(() => document.body.classList.contains('sb-show-main') || document.body.classList.contains('sb-show-errordisplay'), undefined, { timeout: STORY_MS });
        const failed = await page.evaluate(() => document.body.classList.contains('sb-show-errordisplay') ? document.querySelector('#error-message')?.textContent ?? 'error display' : null);
        assert.equal(failed, null, `the story threw while rendering: ${failed}`);
        if (kernel) {
          const status = page.getByTestId('kernel-status');
          await page.waitForFunction(() => {
            const el = document.querySelector('[data-testid="kernel-status"]');
            return !!el && el.getAttribute('data-state') !== 'running';
          }, undefined, { timeout: STORY_MS });
          const text = (await status.textContent()) ?? '';
          const state = await status.getAttribute('data-state');
          await page.screenshot({ path: join(SHOTS, `${s.id}.png`), fullPage: true });
          assert.equal(state, 'pass', `status: ${text}`);
          assert.match(text, /^matches reference: /, text);
          assert.match((await page.locator('[data-testid="kernel-seed"]').textContent()) ?? '', new RegExp(`seed ${SEED}\\b`), 'the story did not run on the seed given in the URL');
          const timing = (await page.getByTestId('kernel-timing').textContent()) ?? '';
          assert.match(timing, /CPU float64 reference: [\d.]+ ms/, `timing line: ${timing}`);
        } else {
          // Let effects, canvases and the 3D scene draw before the picture.
          await page.waitForLoadState('networkidle');
          await page.waitForTimeout(1000);
          await page.screenshot({ path: join(SHOTS, `${s.id}.png`), fullPage: true });
          const ready = await page.locator('[data-story-ready]').count();
          assert.ok(ready > 0, 'the story did not mark itself ready (data-story-ready)');
        }
        assert.deepEqual(errors, [], `errors in the page:\n${errors.join('\n')}`);
      } finally {
        await page.close();
      }
    });
  }
});
