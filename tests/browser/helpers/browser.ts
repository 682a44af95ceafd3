// Real-browser tests: the studio served by Vite, driven in Debian's Chromium (headless) with
// WebGPU on SwiftShader. No browser download: playwright-core only drives /usr/bin/chromium.
import { createServer, type ViteDevServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
  '--ignore-gpu-blocklist',
  '--disable-background-networking',
  '--no-first-run',
];

export interface Studio {
  server: ViteDevServer;
  url: string;
  browser: Browser;
  page: Page;
  /** Console errors and page errors seen so far: tests fail on unexpected ones. */
  errors: string[];
  close(): Promise<void>;
}

export async function openStudio(path = '/', opts: { webgpu?: boolean } = {}): Promise<Studio> {
  const server = await createServer({ configFile: join(process.cwd(), 'vite.config.ts'), server: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
  await server.listen();
  const addr = server.httpServer!.address();
  const port = typeof addr === 'object' && addr ? addr.port : 5173;
  const url = `http://127.0.0.1:${port}`;
  const args = opts.webgpu === false ? CHROMIUM_ARGS.filter((a) => !a.includes('webgpu')) : CHROMIUM_ARGS;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url + path);
  return {
    server,
    url,
    browser,
    page,
    errors,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Console errors that are expected: a 404 (the default model's files.json when only the fixture
 * is served, or the browser's /favicon.ico). Tests fail on any other. */
export function unexpectedErrors(errors: string[]): string[] {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));
}

/** Waits until the studio has drawn every head and the chosen head's measures, with no load,
 * prefill or selection in progress. Loading and prefill on SwiftShader on 2 cores take minutes. */
export async function waitReady(page: Page, timeout = 180_000): Promise<void> {
  await page.getByRole('button', { name: 'Layer 0 head 0', exact: true }).waitFor({ timeout });
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid="status"]')?.textContent ?? '';
    return !!document.querySelector('[data-testid="head-recall"]') && !/Loading|Prefill|SampleAttention, layer|Tokenizing/.test(s);
  }, null, { timeout });
}
