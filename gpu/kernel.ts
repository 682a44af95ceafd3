// Compute pipelines, their uniforms and dispatch. A kernel is WGSL source plus an entry point;
// bindings are listed in binding order in group 0, uniforms (if any) last.
import type { GpuContext } from './device';
import type { GpuTimer } from './timing';
import { Usage } from './flags';

export type Param = { u32: number } | { i32: number } | { f32: number };
export const u32 = (v: number): Param => ({ u32: v });
export const i32 = (v: number): Param => ({ i32: v });
export const f32 = (v: number): Param => ({ f32: v });

/** Packs scalars into a uniform buffer, 4 bytes each, padded to 16 bytes; the WGSL struct
 * must list the same fields in the same order. */
export function packParams(params: readonly Param[]): ArrayBuffer {
  const n = Math.max(4, Math.ceil(params.length / 4) * 4);
  const buf = new ArrayBuffer(n * 4);
  const dv = new DataView(buf);
  params.forEach((p, i) => {
    if ('u32' in p) {
      if (!Number.isInteger(p.u32) || p.u32 < 0 || p.u32 > 0xffffffff) throw new Error(`u32 param ${i} out of range: ${p.u32}`);
      dv.setUint32(i * 4, p.u32, true);
    } else if ('i32' in p) dv.setInt32(i * 4, p.i32, true);
    else dv.setFloat32(i * 4, p.f32, true);
  });
  return buf;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export interface KernelSpec {
  label: string;
  code: string;
  entryPoint?: string;
  /** Pipeline-overridable constants (WGSL `override`). */
  constants?: Record<string, number>;
}

export function pipelineFor(ctx: GpuContext, spec: KernelSpec): GPUComputePipeline {
  let cache = pipelines.get(ctx.device);
  if (!cache) pipelines.set(ctx.device, (cache = new Map()));
  const key = `${spec.entryPoint ?? 'main'}|${JSON.stringify(spec.constants ?? {})}|${spec.code}`;
  let p = cache.get(key);
  if (!p) {
    const module = ctx.device.createShaderModule({ label: spec.label, code: spec.code });
    p = ctx.device.createComputePipeline({
      label: spec.label,
      layout: 'auto',
      compute: { module, entryPoint: spec.entryPoint ?? 'main', constants: spec.constants },
    });
    cache.set(key, p);
  }
  return p;
}

export interface Dispatch {
  kernel: KernelSpec;
  /** Storage buffers in binding order (0, 1, ...); null for a binding this entry point does not
   * use (with layout 'auto' an unused binding is absent from the layout and must not be bound). */
  buffers: (GPUBuffer | null)[];
  /** Uniform scalars, bound after the storage buffers. */
  params?: readonly Param[];
  workgroups: readonly [number, number?, number?];
}

/** Records one dispatch into `encoder`, in a compute pass of its own so a timer can bracket it. */
export function encodeDispatch(ctx: GpuContext, encoder: GPUCommandEncoder, d: Dispatch, timer?: GpuTimer): void {
  const pipeline = pipelineFor(ctx, d.kernel);
  const entries: GPUBindGroupEntry[] = [];
  d.buffers.forEach((buffer, binding) => {
    if (buffer) entries.push({ binding, resource: { buffer } });
  });
  if (d.params) {
    const data = packParams(d.params);
    const ub = ctx.device.createBuffer({ label: `${d.kernel.label} params`, size: data.byteLength, usage: Usage.UNIFORM | Usage.COPY_DST });
    ctx.device.queue.writeBuffer(ub, 0, data);
    entries.push({ binding: d.buffers.length, resource: { buffer: ub } });
  }
  const bindGroup = ctx.device.createBindGroup({ label: d.kernel.label, layout: pipeline.getBindGroupLayout(0), entries });
  const pass = encoder.beginComputePass({ label: d.kernel.label, timestampWrites: timer?.passWrites(d.kernel.label) });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  const [x, y = 1, z = 1] = d.workgroups;
  const max = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (x > max || y > max || z > max) throw new Error(`${d.kernel.label}: dispatch ${x}x${y}x${z} exceeds ${max} workgroups per dimension`);
  if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
  pass.end();
}

/** Runs dispatches in one submission and waits for the GPU. */
export async function run(ctx: GpuContext, dispatches: readonly Dispatch[], timer?: GpuTimer): Promise<void> {
  const encoder = ctx.device.createCommandEncoder();
  for (const d of dispatches) encodeDispatch(ctx, encoder, d, timer);
  timer?.resolve(encoder);
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
}

/** Kernel time of one timed submission of `dispatches` (ms, the sum of their passes); the timer
 * must hold a pass per dispatch (else the rest run untimed and the sum is short). */
export async function timed(ctx: GpuContext, timer: GpuTimer, dispatches: readonly Dispatch[]): Promise<number> {
  return (await timedParts(ctx, timer, dispatches)).reduce((s, t) => s + t.ms, 0);
}

/** Each pass's kernel time of one submission, in order, labelled by its kernel. */
export async function timedParts(ctx: GpuContext, timer: GpuTimer, dispatches: readonly Dispatch[]): Promise<{ label: string; ms: number }[]> {
  if (dispatches.length > timer.capacity) throw new RangeError(`timed: ${dispatches.length} passes, the timer holds ${timer.capacity}.`);
  await run(ctx, dispatches, timer);
  return timer.read();
}

/** Splits `n` workgroups into a 2D grid that respects the per-dimension limit; kernels recover
 * the flat index as `wid.x + wid.y * nwg.x` and skip indices >= n. */
export function grid2d(ctx: GpuContext, n: number): [number, number] {
  const max = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (n <= max) return [n, 1];
  const y = Math.ceil(n / max);
  return [Math.ceil(n / y), y];
}

export const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** Kernel times of `n` runs of one dispatch, all timed, in batches the timer can hold (ms each). */
export async function timeRepeats(ctx: GpuContext, d: Dispatch, n: number, timer: GpuTimer): Promise<number[]> {
  const ms: number[] = [];
  for (let done = 0; done < n; ) {
    const batch = Math.min(n - done, timer.capacity);
    const enc = ctx.device.createCommandEncoder({ label: `time ${d.kernel.label}` });
    for (let i = 0; i < batch; i++) encodeDispatch(ctx, enc, d, timer);
    timer.resolve(enc);
    ctx.device.queue.submit([enc.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
    for (const t of await timer.read()) ms.push(t.ms);
    done += batch;
  }
  return ms;
}

/** A buffer-to-buffer copy recorded between dispatches (gathering or scattering heads). */
export interface BufferCopy {
  copy: { src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number };
}

/** A dispatch or a copy, recorded in order into one encoder. */
export type Step = Dispatch | BufferCopy;

export function encodeStep(ctx: GpuContext, encoder: GPUCommandEncoder, s: Step, timer?: GpuTimer): void {
  if ('copy' in s) {
    const c = s.copy;
    if (c.size > 0) encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
  } else encodeDispatch(ctx, encoder, s, timer);
}

/** run() for steps that include copies: one submission, then waits for the GPU. */
export async function runSteps(ctx: GpuContext, steps: readonly Step[], timer?: GpuTimer): Promise<void> {
  const encoder = ctx.device.createCommandEncoder();
  for (const s of steps) encodeStep(ctx, encoder, s, timer);
  timer?.resolve(encoder);
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
}
