// One WebGPU device for the whole program, from whichever GPU object the host provides:
// `navigator.gpu` in the browser, the npm `webgpu` package (Dawn) in Node (see node-gpu.ts).
// Nothing here knows which; kernels only ever see a GpuContext.

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU rasterisers (SwiftShader, lavapipe, WARP): timings are not GPU timings. */
  software: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** Kernels may only use timestamp queries when the adapter offers them. */
  hasTimestamps: boolean;
  hasSubgroups: boolean;
  hasF16: boolean;
  /** Tensor cores through `chromium-experimental-subgroup-matrix` (see gpu/tensorcore). */
  hasSubgroupMatrix: boolean;
  /** The adapter's subgroup-matrix shapes, e.g. "f16->f32 M16 N16 K16"; empty without the feature. */
  subgroupMatrixConfigs: string[];
  /** Subgroup sizes the adapter may use (0 when unknown). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** Resolves when the device is lost, with the reason; the owner decides whether to reacquire. */
  lost: Promise<GPUDeviceLostInfo>;
}

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

export function summariseAdapter(info: GPUAdapterInfo | undefined): AdapterSummary {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const all = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const software = /swiftshader|llvmpipe|lavapipe|warp|software|cpu/.test(all) || (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  return { vendor, architecture, device, description, software };
}

export function describeAdapter(a: AdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.device, a.description].filter((s) => s && s.length > 0);
  const unique = [...new Set(parts)];
  return (unique.join(' ') || 'unknown adapter') + (a.software ? ' (software)' : '');
}

/** Features we use when present; none is required. The subgroup-matrix feature is Chromium's
 * experimental one (Chrome: --enable-unsafe-webgpu; Dawn in Node: the toggles in node-gpu.ts). */
const OPTIONAL_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16', 'chromium-experimental-subgroup-matrix'] as GPUFeatureName[];

interface MatrixConfig { componentType: string; resultComponentType: string; M: number; N: number; K: number }

/** "f16->f32 M16 N16 K16" for each subgroup-matrix configuration the adapter reports. */
export function matrixConfigNames(info: GPUAdapterInfo | undefined): string[] {
  const cfgs = ((info as { subgroupMatrixConfigs?: MatrixConfig[] } | undefined)?.subgroupMatrixConfigs ?? []);
  return cfgs.map((c) => `${c.componentType}->${c.resultComponentType} M${c.M} N${c.N} K${c.K}`);
}

export async function acquireDevice(gpu: GPU | undefined, opts: { powerPreference?: GPUPowerPreference } = {}): Promise<GpuContext> {
  if (!gpu) {
    throw new GpuUnavailableError(
      'WebGPU is not available here. In Chrome or Edge 113+ it is on by default; in Chromium on Linux start it with ' +
        '--enable-unsafe-webgpu --enable-features=Vulkan; in Firefox use Nightly with dom.webgpu.enabled; in Safari 26+ it is on.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError(
      'No WebGPU adapter was found. On a machine without a GPU install a Vulkan loader and SwiftShader ' +
        '(Debian: apt-get install libvulkan1 chromium) or enable WebGPU in the browser (chrome://flags/#enable-unsafe-webgpu).',
    );
  }
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  // Ask for the adapter's own limits where kernels benefit from them (long sequences need big buffers).
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupsPerDimension'] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const sizes = info as { subgroupMinSize?: number; subgroupMaxSize?: number } | undefined;
  return {
    device,
    adapter: summariseAdapter(info),
    hasTimestamps: device.features.has('timestamp-query'),
    hasSubgroups: device.features.has('subgroups'),
    hasF16: device.features.has('shader-f16'),
    hasSubgroupMatrix: device.features.has('chromium-experimental-subgroup-matrix' as GPUFeatureName),
    subgroupMatrixConfigs: matrixConfigNames(info),
    subgroupMinSize: sizes?.subgroupMinSize ?? 0,
    subgroupMaxSize: sizes?.subgroupMaxSize ?? 0,
    lost: device.lost,
  };
}

/** Runs `fn` inside error scopes so validation and out-of-memory errors surface as exceptions
 * naming the operation, instead of a silent console warning and wrong numbers. */
export async function checked<T>(device: GPUDevice, what: string, fn: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (validation) throw new Error(`WebGPU validation error in ${what}: ${validation.message}`);
    if (oom) throw new Error(`WebGPU ran out of memory in ${what}: ${oom.message}. Try a shorter text or a smaller model.`);
  }
  return result;
}
