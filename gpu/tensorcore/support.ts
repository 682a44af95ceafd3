// Whether this device can run the f16 tensor-core kernels, and how: on real subgroup matrices, or
// (tests only, when asked with SA_STUDIO_EMULATE_TENSOR_CORES=1) on their emulation. `--precision
// f16` on an adapter without them is an error that names what is missing, never a silent fallback.
import type { GpuContext } from '../device';
import { InputError } from '../errors';

export type TensorCoreMode = 'real' | 'emulated';

/** A bad-input error (exit 2 in the CLI): the user asked for a precision this adapter cannot run. */
export class PrecisionUnavailableError extends InputError {
  override name = 'PrecisionUnavailableError';
}

/** The configuration every kernel here is written for. */
export const MATRIX_CONFIG = 'f16->f32 M16 N16 K16';

/** What the f16 path lacks on this device (empty when it can run for real). */
export function missingForTensorCores(ctx: GpuContext): string[] {
  const missing: string[] = [];
  if (!ctx.hasF16) missing.push('shader-f16');
  if (!ctx.hasSubgroups) missing.push('subgroups');
  if (!ctx.hasSubgroupMatrix) missing.push('chromium-experimental-subgroup-matrix');
  else if (!ctx.subgroupMatrixConfigs.includes(MATRIX_CONFIG)) missing.push(`subgroup-matrix configuration ${MATRIX_CONFIG}`);
  if (ctx.hasSubgroupMatrix && !(ctx.subgroupMinSize === 32 && ctx.subgroupMaxSize === 32)) missing.push(`subgroups of exactly 32 invocations (adapter: ${ctx.subgroupMinSize}..${ctx.subgroupMaxSize})`);
  return missing;
}

function emulationAsked(): boolean {
  return typeof process !== 'undefined' && process.env?.SA_STUDIO_EMULATE_TENSOR_CORES === '1';
}

/** 'real', 'emulated' (only when asked for and shader-f16 and subgroups exist), or null. */
export function tensorCoreMode(ctx: GpuContext): TensorCoreMode | null {
  if (missingForTensorCores(ctx).length === 0) return 'real';
  if (emulationAsked() && ctx.hasF16 && ctx.hasSubgroups) return 'emulated';
  return null;
}

/** The mode, or a PrecisionUnavailableError naming the missing features and what to do. */
export function requireTensorCores(ctx: GpuContext, adapter: string): TensorCoreMode {
  const mode = tensorCoreMode(ctx);
  if (mode) return mode;
  const missing = missingForTensorCores(ctx);
  throw new PrecisionUnavailableError(
    `--precision f16 needs ${missing.join(', ')}, which adapter ${adapter} does not offer. ` +
      'Use --precision f32 (the exact path), or a GPU that has them: in Chrome start with --enable-unsafe-webgpu ' +
      '(NVIDIA needs driver 615.71+ for shader-f16); Dawn in Node asks for them itself.',
  );
}
