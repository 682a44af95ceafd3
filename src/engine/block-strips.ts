// A blocks head's strip scores for the head view: C_J of every column block and D_o of every
// slash band (docs/SAMPLEATTENTION.md, "Variant `blocks`", step 4). The layer run keeps only the
// kept blocks and bands (and C_J per key in its `scores` plane), not D_o, so the head view asks
// for them here: the run's own stage kernels (gpu/sample/blocks-stages.ts, f32 as in the run) on
// the one head's q and k, read back. Exact, not a re-derivation: the same dispatches, inputs and
// scale as the run's stage 1.
import type { GpuContext } from '../../gpu/device';
import { checked } from '../../gpu/device';
import { run } from '../../gpu/kernel';
import { readTensor, type Tensor } from '../../gpu/tensor';
import { blocksStageDispatches, createBlocksStages, destroyBlocksStages } from '../../gpu/sample/blocks-stages';
import { uploadSampledRows } from '../../gpu/sample/stage1';
import { blocksSampledRows, type BlocksParams } from '../sampleattention/spec/blocks/params';

export interface BlockStrips {
  /** C_J, (nb) f32: summed over the sampled rows (so they sum to |R|). */
  column: Float32Array;
  /** D_o, (nb) f32, band o = floor((i - j) / b). */
  slash: Float32Array;
}

/** q, k: one head's (1, S, d) f32 tensors. */
export async function blockStrips(ctx: GpuContext, q: Tensor, k: Tensor, S: number, d: number, p: BlocksParams): Promise<BlockStrips> {
  const shape = { heads: 1, kvHeads: 1, S, d };
  const rows = blocksSampledRows(S, p.blockSize, p.rowRatio);
  const sr = uploadSampledRows(ctx, S, [rows]);
  const bs = createBlocksStages(ctx, shape, p.blockSize, [p], [rows.length], sr.nMax);
  try {
    await checked(ctx.device, 'blocks strip scores', () => run(ctx, blocksStageDispatches(ctx, shape, q, k, sr, p.blockSize, bs)));
    const strips = await readTensor(ctx, bs.strips); // (2, 1, nb) f32
    return { column: strips.slice(0, bs.nb), slash: strips.slice(bs.nb, 2 * bs.nb) };
  } finally {
    destroyBlocksStages(bs);
    sr.rows.destroy();
    sr.nRows.destroy();
  }
}
