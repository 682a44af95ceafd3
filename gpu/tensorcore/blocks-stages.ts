// Stages 1 and 2 of the `blocks` variant on the tensor-core path, the twin of
// gpu/sample/blocks-stages.ts blocksStageDispatches with the same outputs (strips, kept, stats):
// the sampled rows' log-sum-exp and their column scores c_j on tensor cores (stage1F16Dispatches),
// then the strip sums on f16-rounded q and k, the column blocks as sums of c_j (blocks-stage1.wgsl)
// and stage 2 (blocks-select.wgsl), shared with the f32 path (which adds the per-key column pass
// that c_j replaces here). Stage 2 is the last dispatch.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import type { Tensor } from '../tensor';
import type { AttentionShape } from '../attention/shapes';
import type { SampledRows } from '../sample/stage1';
import { blocksStripDispatches, checkBlocksStages, type BlocksStageOutputs } from '../sample/blocks-stages';
import { stage1F16Dispatches } from './attention';
import type { TensorCoreMode } from './support';

export function blocksStageF16Dispatches(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, b: number, o: BlocksStageOutputs, scale = 1 / Math.sqrt(s.d)): Dispatch[] {
  checkBlocksStages('f16 blocks stage 1', s, q, k, b, o);
  // The strip sums (blocks-stage1.wgsl) read q and k as f32.
  for (const t of [q, k]) if (t.dtype === 'f16') throw new RangeError(`f16 blocks stage 1: ${t.label} is f16; its strip sums read q and k as f32. Give them as f32 (the row pass rounds them as it stages them).`);
  return [...stage1F16Dispatches(ctx, tc, s, q, k, rows, o.rowPass, scale), ...blocksStripDispatches(s, q, k, rows, b, o, scale, true)];
}
