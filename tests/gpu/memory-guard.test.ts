// The memory guard's estimate (src/model/memory-plan.ts) against what the GPU really holds: every
// createBuffer and destroy of a device counted while the llama3 fixture is built and runs a prefill
// (all logits) and a KV-cache generation. The estimate must cover the peak of live bytes and not
// overstate it by more than a fifth (what it leaves out: uniforms, staging copies, the finite
// counter, sampled-row lists, all tiny here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { gpu } from '../helpers/gpu';
import { PARITY_DIR } from '../helpers/parity';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { nodeFolder } from '../../src/model/loader/node-folder';
import { buildModel, forward } from '../../src/model/forward';
import { generateGreedy } from '../../src/model/generate';
import { estimateGpuMemory } from '../../src/model/memory-plan';

const DIR = join(PARITY_DIR, 'llama3');

/** Counts live bytes of `device`'s buffers from now on; peak() since the last reset. */
function trackBuffers(device: GPUDevice) {
  const create = device.createBuffer.bind(device);
  let live = 0, peak = 0;
  device.createBuffer = (d: GPUBufferDescriptor) => {
    const b = create(d);
    live += d.size;
    peak = Math.max(peak, live);
    const destroy = b.destroy.bind(b);
    let gone = false;
    b.destroy = () => { if (!gone) { gone = true; live -= d.size; } destroy(); };
    return b;
  };
  return { peak: () => peak, reset: () => { peak = live; }, stop: () => { device.createBuffer = create; } };
}

test('memory estimate covers the measured peak of a prefill and a KV-cache generation within 20%', async () => {
  const ctx = await gpu();
  const cp = await loadCheckpoint(nodeFolder(DIR), () => undefined);
  const ids = Int32Array.from(cp.tokenizer.encode(readFileSync(join(DIR, 'text.txt'), 'utf8'))).slice(0, 48);
  const S = ids.length, steps = 3;
  const t = trackBuffers(ctx.device);
  const model = buildModel(ctx, cp.config, cp.weights, { precision: 'f32' });
  try {
    await forward(model, ids, { logits: 'all' });
    const prefill = t.peak();
    t.reset();
    await generateGreedy(model, ids, steps);
    const gen = t.peak();
    const want = [
      ['prefill', prefill, estimateGpuMemory(cp.config, { S, precision: 'f32', logits: 'all' }).total],
      ['generation', gen, estimateGpuMemory(cp.config, { S, precision: 'f32', logits: 'last', kvCache: S + steps - 1 }).total],
    ] as const;
    for (const [what, measured, est] of want) {
      console.log(`${what}: measured peak ${measured} bytes, estimate ${est}`);
      assert.ok(est >= measured && est <= 1.2 * measured, `${what}: estimate ${est} vs measured peak ${measured} bytes`);
    }
  } finally {
    t.stop();
    model.dispose();
  }
});
