import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeAdapter } from '../../gpu/device';
import { createTensor, readTensor, uploadTensor } from '../../gpu/tensor';
import { run, u32 } from '../../gpu/kernel';
import { GpuTimer } from '../../gpu/timing';
import { gpu } from '../helpers/gpu';

const ADD = /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct P { n: u32 }
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { out[g.x] = a[g.x] * 2.0 + 1.0; }
}`;

test('finds an adapter and names it', async () => {
  const ctx = await gpu();
  assert.ok(describeAdapter(ctx.adapter).length > 0);
  console.log(`adapter: ${describeAdapter(ctx.adapter)}; timestamps ${ctx.hasTimestamps}; subgroups ${ctx.hasSubgroups}`);
});

test('runs a kernel over a poisoned output of awkward size, with timestamps', async () => {
  const ctx = await gpu();
  const n = 1001;
  const a = uploadTensor(ctx, 'a', [n], Array.from({ length: n }, (_, i) => i - 500));
  const out = createTensor(ctx, 'out', [n], true); // (n) f32, NaN-poisoned
  const timer = ctx.hasTimestamps && !process.env.NOTIMER ? new GpuTimer(ctx) : undefined;
  await run(ctx, [{ kernel: { label: 'double', code: ADD }, buffers: [a.buffer, out.buffer], params: [u32(n)], workgroups: [Math.ceil(n / 64)] }], timer);
  const got = await readTensor(ctx, out);
  for (let i = 0; i < n; i++) assert.equal(got[i], (i - 500) * 2 + 1);
  if (timer) {
    const times = await timer.read();
    assert.equal(times.length, 1);
    assert.ok(times[0].ms >= 0);
    timer.destroy();
  }
});

test('poisoned tensors read back as NaN everywhere, filled through the queue (small) or by the GPU fill kernel (from 1 MiB)', async () => {
  const ctx = await gpu();
  // Just under, at and past the 1 MiB switch, and odd sizes (a kernel that misses the tail fails).
  for (const n of [3, (1 << 18) - 1, 1 << 18, (1 << 18) + 77, 3 * 100_003]) {
    const t = createTensor(ctx, `poisoned ${n}`, [n], true);
    const x = await readTensor(ctx, t);
    let bad = -1;
    for (let i = 0; i < n && bad < 0; i++) if (!Number.isNaN(x[i])) bad = i;
    assert.equal(bad, -1, `${n} floats: element ${bad} is ${x[bad]}, not NaN`);
    t.buffer.destroy();
  }
});
