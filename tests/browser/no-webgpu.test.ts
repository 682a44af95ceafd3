// Without WebGPU the studio says so and says how to enable it, instead of failing silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStudio, screenshot } from './helpers/browser';

test('a browser without WebGPU shows how to enable it', async () => {
  const st = await openStudio('/?model=fixture-llama3&maxTokens=64&fresh', { webgpu: false });
  try {
    const alert = st.page.getByTestId('no-webgpu');
    await alert.waitFor({ timeout: 60_000 });
    const text = (await alert.textContent()) ?? '';
    assert.match(text, /This browser has no WebGPU/);
    // Either navigator.gpu is missing or it has no adapter; both messages say how to get one.
    assert.match(text, /enable-unsafe-webgpu|chrome:\/\/flags/);
    await screenshot(st.page, 'studio-no-webgpu');
  } finally {
    await st.close();
  }
});
