// --precision f32|f16, shared by the verbs that run the model or SampleAttention: f32 is the exact
// path (parity with transformers), f16 the tensor-core kernels (gpu/tensorcore), which exit 2 with
// the missing features named where the adapter lacks them.
import type { FlagSpec } from './args';
import { UsageError } from './args';
import type { Precision } from '../src/model/model';

export const PRECISION_FLAG: FlagSpec = {
  precision: { kind: 'string', help: 'f32 (exact, default) or f16 (tensor cores: needs shader-f16 and chromium-experimental-subgroup-matrix)' },
};

export function flagPrecision(verb: string, f: Record<string, unknown>): Precision {
  const p = (f.precision as string | undefined) ?? 'f32';
  if (p !== 'f32' && p !== 'f16') throw new UsageError(`${verb}: --precision must be f32 or f16, got ${p}.`);
  return p;
}
