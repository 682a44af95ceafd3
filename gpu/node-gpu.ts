// WebGPU in Node through Dawn (npm `webgpu`). Without a hardware Vulkan driver it picks
// SwiftShader, the CPU Vulkan implementation Debian's chromium package ships, by itself.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type GpuContext } from './device';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const HARDWARE_ICD_DIRS = ['/usr/local/nvidia/share/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
// Mesa's CPU drivers are installed alongside libvulkan1 but do not count as a GPU (Dawn refuses lavapipe).
const SOFTWARE_ICD = /lvp|lavapipe|swiftshader/i;

function hasHardwareVulkanDriver(): boolean {
  for (const dir of HARDWARE_ICD_DIRS) {
    if (!existsSync(dir)) continue;
    const drivers = readdirSync(dir).filter((f) => f.endsWith('.json') && !SOFTWARE_ICD.test(f));
    // Mesa's intel/radeon ICD files are installed even without such a GPU; only count them when a render node exists.
    if (drivers.some((f) => /nvidia/i.test(f))) return true;
    if (drivers.length > 0 && existsSync('/dev/dri') && readdirSync('/dev/dri').some((n) => n.startsWith('renderD'))) return true;
  }
  return false;
}

/** Decides the Vulkan driver before Dawn loads Vulkan (the loader reads these variables once). */
export function chooseVulkanDriver(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return 'from VK_ICD_FILENAMES/VK_DRIVER_FILES';
  if (env.SA_STUDIO_ADAPTER !== 'swiftshader' && hasHardwareVulkanDriver()) return 'system Vulkan driver';
  if (existsSync(SWIFTSHADER_ICD)) {
    env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    return 'SwiftShader (no GPU driver found)';
  }
  return 'none found';
}

/** Below us (the Vulkan loader / SwiftShader's WSI code) complains on stderr with two lines
 * "error: XDG_RUNTIME_DIR is invalid or not set in the environment." when the variable is unset or
 * not a private folder of ours. A user reads them as failures, so before Dawn loads, point it at a
 * private temporary folder (mode 0700, as the XDG spec requires) unless it already names a valid one.
 * Returns the folder used. */
export function ensureXdgRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const cur = env.XDG_RUNTIME_DIR;
  if (cur) {
    try {
      const st = statSync(cur);
      const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
      if (st.isDirectory() && mine && (st.mode & 0o077) === 0) return cur;
    } catch {
      // not there: make one below
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'sa-studio-xdg-'), { encoding: 'utf8' }); // created 0700
  env.XDG_RUNTIME_DIR = dir;
  // Removed when the process ends, so runs do not leave folders behind.
  if (env === process.env) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let shared: Promise<GpuContext> | undefined;
// The GPU object owns Dawn's instance. It must outlive every device: if V8 collects it, Dawn's
// event pump runs on a freed instance (seen as random SIGSEGVs, hangs and mutex aborts).
let instance: GPU | undefined;

/** The process-wide Node GPU context. */
export function nodeGpu(): Promise<GpuContext> {
  shared ??= (async () => {
    const env = process.env;
    const how = chooseVulkanDriver(env);
    ensureXdgRuntimeDir();
    let mod: typeof import('webgpu');
    try {
      mod = await import('webgpu');
    } catch (e) {
      throw new Error(`Cannot load the npm package "webgpu" (Dawn for Node): ${(e as Error).message}. Run npm ci first.`);
    }
    Object.assign(globalThis, mod.globals);
    // Dawn's Vulkan loader needs libvulkan.so.1; say so plainly instead of "no adapter".
    // Dawn offers shader-f16 and subgroup matrices (tensor cores) on NVIDIA's Vulkan driver only
    // with these toggles (it trusts f16 there by default from driver 615.71 on); elsewhere they
    // change nothing. Timestamps unquantized: Dawn rounds them as browsers do (to 2^16 ns on the
    // H200), which hid every pass under 65 us and rounded the stage passes' times.
    // SA_STUDIO_DAWN_SAFE=1 leaves all three off. SA_STUDIO_DAWN_NO_ROBUSTNESS=1 (to measure what
    // WebGPU's bounds checks cost the kernels: every f16 test passes without them on the H200, but
    // no browser runs without them, so the default keeps them) adds Dawn's disable_robustness.
    const unsafe = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia', ...(env.SA_STUDIO_DAWN_NO_ROBUSTNESS === '1' ? ['disable_robustness'] : [])];
    const flags = env.SA_STUDIO_DAWN_SAFE === '1' ? [] : [`enable-dawn-features=${unsafe.join(',')}`, 'disable-dawn-features=timestamp_quantization'];
    const gpu = (instance = mod.create(flags));
    try {
      return await acquireDevice(gpu);
    } catch (e) {
      const hint = existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') || existsSync('/usr/lib/aarch64-linux-gnu/libvulkan.so.1')
        ? `Vulkan driver: ${how}.`
        : 'libvulkan.so.1 is missing: apt-get install libvulkan1 chromium.';
      throw new Error(`${(e as Error).message} (${hint})`);
    }
  })();
  return shared;
}
