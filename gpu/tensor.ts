// GPU buffers with their shape attached. Every activation on the GPU is f32; weights are f32 on
// the exact path and may be f16 on the tensor-core path (gpu/tensorcore), which says so in dtype.
import type { GpuContext } from './device';
import { MapMode, Usage } from './flags';
import { LimitError } from './errors';

export interface Tensor {
  buffer: GPUBuffer;
  /** Row-major shape, e.g. [heads, S, d]. */
  shape: readonly number[];
  label: string;
  /** Element type; absent means f32. */
  dtype?: 'f32' | 'f16';
}

export const STORAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function shapeString(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

/** A new f32 tensor. When `poison` is set the buffer is filled with NaN so a kernel that forgets
 * an element is caught by the tests instead of passing on zeros. */
export function createTensor(ctx: GpuContext, label: string, shape: readonly number[], poison = false): Tensor {
  const n = numel(shape);
  const size = Math.max(4, n * 4);
  const { maxStorageBufferBindingSize: bind, maxBufferSize: buf } = ctx.device.limits;
  const max = Math.min(bind, buf);
  if (size > max) {
    const which = bind <= buf ? 'storage binding limit (maxStorageBufferBindingSize)' : 'buffer size limit (maxBufferSize)';
    throw new LimitError(`Tensor ${label} ${shapeString(shape)} needs ${(size / 2 ** 20).toFixed(1)} MiB, more than this adapter's ${(max / 2 ** 20).toFixed(0)} MiB ${which}. Use a shorter sequence (--max-tokens) or a smaller model.`, size, max);
  }
  const buffer = ctx.device.createBuffer({ label, size: align4(size), usage: STORAGE });
  if (poison) poisonBuffer(ctx, buffer, align4(size) / 4);
  return { buffer, shape: [...shape], label };
}

/** Buffers from this size up are poisoned by a fill kernel on the GPU: filling and uploading
 * 64 MiB of NaN from the host took ~65 ms of a studio slider move at 32K (two (8, 32768, 32)
 * outputs); the kernel takes microseconds and no host memory. Smaller ones go through the queue. */
const POISON_ON_GPU_WORDS = 1 << 18; // 1 MiB
const fillPipelines = new WeakMap<GPUDevice, GPUComputePipeline>();

const FILL_WGSL = `@group(0) @binding(0) var<storage, read_write> buf: array<u32>; // (n) words
struct Params { n: u32, value: u32, rowStride: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x + id.y * p.rowStride;
  if (i < p.n) { buf[i] = p.value; }
}`;

/** Fills `words` 32-bit words of a buffer with the f32 quiet NaN 0x7fc00000 (also what u32
 * buffers are poisoned with), in queue order. Not mappedAtCreation: dawn.node can crash when V8
 * later collects the detached ArrayBuffer of a mapped range (seen as rare SIGSEGVs in tests). */
export function poisonBuffer(ctx: GpuContext, buffer: GPUBuffer, words: number): void {
  if (words < POISON_ON_GPU_WORDS) {
    ctx.device.queue.writeBuffer(buffer, 0, new Uint32Array(words).fill(0x7fc00000));
    return;
  }
  // The launch by hand (kernel.ts imports timing.ts, which imports this file).
  const dev = ctx.device;
  let pipeline = fillPipelines.get(dev);
  if (!pipeline) {
    pipeline = dev.createComputePipeline({ label: 'poison (NaN fill)', layout: 'auto', compute: { module: dev.createShaderModule({ label: 'poison (NaN fill)', code: FILL_WGSL }), entryPoint: 'main' } });
    fillPipelines.set(dev, pipeline);
  }
  const groups = Math.ceil(words / 256), max = dev.limits.maxComputeWorkgroupsPerDimension;
  const y = Math.ceil(groups / max), x = Math.ceil(groups / y);
  const params = dev.createBuffer({ label: 'poison params', size: 16, usage: Usage.UNIFORM | Usage.COPY_DST });
  dev.queue.writeBuffer(params, 0, new Uint32Array([words, 0x7fc00000, x * 256, 0]));
  const bind = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }, { binding: 1, resource: { buffer: params } }] });
  const encoder = dev.createCommandEncoder({ label: `poison ${buffer.label}` });
  const pass = encoder.beginComputePass({ label: 'poison (NaN fill)' });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(x, y);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
}

export function uploadTensor(ctx: GpuContext, label: string, shape: readonly number[], data: ArrayLike<number>): Tensor {
  const n = numel(shape);
  if (data.length !== n) throw new Error(`uploadTensor ${label}: ${data.length} values for shape ${shapeString(shape)} (${n} expected)`);
  const t = createTensor(ctx, label, shape);
  const f = data instanceof Float32Array ? data : Float32Array.from(data);
  ctx.device.queue.writeBuffer(t.buffer, 0, f.buffer, f.byteOffset, f.byteLength);
  return t;
}

export function uploadU32(ctx: GpuContext, label: string, data: ArrayLike<number>): GPUBuffer {
  const u = data instanceof Uint32Array ? data : Uint32Array.from(data);
  const buffer = ctx.device.createBuffer({ label, size: align4(Math.max(4, u.byteLength)), usage: STORAGE });
  ctx.device.queue.writeBuffer(buffer, 0, u.buffer, u.byteOffset, u.byteLength);
  return buffer;
}

/** Copies a buffer back to the host. */
export async function readBuffer(ctx: GpuContext, buffer: GPUBuffer, byteLength = buffer.size): Promise<ArrayBuffer> {
  const staging = ctx.device.createBuffer({ label: `read ${buffer.label}`, size: align4(byteLength), usage: Usage.COPY_DST | Usage.MAP_READ });
  const enc = ctx.device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, align4(byteLength));
  ctx.device.queue.submit([enc.finish()]);
  await staging.mapAsync(MapMode.READ);
  const out = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readTensor(ctx: GpuContext, t: Tensor): Promise<Float32Array> {
  return new Float32Array(await readBuffer(ctx, t.buffer, numel(t.shape) * 4));
}

export async function readU32(ctx: GpuContext, buffer: GPUBuffer, count: number): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer(ctx, buffer, count * 4));
}

export function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

export function destroyAll(...ts: (Tensor | GPUBuffer | undefined)[]): void {
  for (const t of ts) {
    if (!t) continue;
    if ('buffer' in t) t.buffer.destroy();
    else t.destroy();
  }
}

/** A new f16 tensor (2 bytes per element, the buffer padded to 4 bytes); poisoned with f16 NaN. */
export function createTensorF16(ctx: GpuContext, label: string, shape: readonly number[], poison = false): Tensor {
  const n = numel(shape);
  const size = align4(Math.max(4, n * 2));
  const max = ctx.device.limits.maxStorageBufferBindingSize;
  if (size > max) throw new Error(`Tensor ${label} ${shapeString(shape)} needs ${(size / 2 ** 20).toFixed(1)} MiB, more than this adapter's ${(max / 2 ** 20).toFixed(0)} MiB storage binding limit. Use a shorter sequence.`);
  const buffer = ctx.device.createBuffer({ label, size, usage: STORAGE });
  if (poison) ctx.device.queue.writeBuffer(buffer, 0, new Uint16Array(size / 2).fill(0x7e00));
  return { buffer, shape: [...shape], label, dtype: 'f16' };
}

/** Uploads f16 bit patterns (see gpu/tensorcore/half.ts toF16). */
export function uploadTensorF16(ctx: GpuContext, label: string, shape: readonly number[], bits: Uint16Array): Tensor {
  const n = numel(shape);
  if (bits.length !== n) throw new Error(`uploadTensorF16 ${label}: ${bits.length} values for shape ${shapeString(shape)} (${n} expected)`);
  const t = createTensorF16(ctx, label, shape);
  // writeBuffer wants a multiple of 4 bytes: pad odd counts with one zero half.
  const data = n % 2 === 0 ? bits : Uint16Array.from({ length: n + 1 }, (_, i) => (i < n ? bits[i] : 0));
  ctx.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return t;
}
