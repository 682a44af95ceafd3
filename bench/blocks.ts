// Kernel timings of the `blocks` variant on one layer's worth of heads, f32 and (when tensor cores
// are given) f16: its stages 1+2 and the block-sparse pass beside dense flash attention of the same
// precision, on benchAttention's synthetic pattern (or given heads), from timestamp queries (median
// of `repeats`; timed by src/sampleattention/gpu-run/blocks-timing.ts, as the studio's latency
// panel is), with what was timed: the kept blocks and bands, the mask's exact density, the share of
// key tiles the sparse pass visited, and a float64 spot check of its output.
import type { GpuContext } from '../gpu/device';
import { destroyAll, readTensor, readU32, uploadTensor, type Tensor } from '../gpu/tensor';
import type { AttentionShape } from '../gpu/attention/shapes';
import { BLOCKS_BQ, blocksKeyTile } from '../gpu/sample/blocks-sparse';
import { BLOCKS_F16_KEY_TILE } from '../gpu/tensorcore/attention';
import type { TensorCoreMode } from '../gpu/tensorcore/support';
import { mulberry32 } from '../src/util/random';
import { blocksSampledRows, validateBlocksParams, type BlocksParams } from '../src/sampleattention/spec/blocks/params';
import { blocksDensity, blocksMask, blocksPredicate } from '../src/sampleattention/spec/blocks/mask';
import { kvHeadOf } from '../src/sampleattention/spec/reference';
import { benchInputs, rowError } from './attention';
import { runSampleAttention } from '../src/sampleattention/gpu-run/layer-run';
import { timeBlocksKernels } from '../src/sampleattention/gpu-run/blocks-timing';
import { blocksSetting } from '../src/sampleattention/spec/setting';

export interface BlocksBenchOptions {
  S: number;
  heads: number;
  kvHeads: number;
  d: number;
  /** One parameter set for every head. */
  params: BlocksParams;
  repeats: number;
  pattern: 'random' | 'structured';
  seed?: number;
  /** Real heads instead of the pattern: q (heads, S, d), k and v (kvHeads, S, d). */
  inputs?: { q: Float32Array; k: Float32Array; v: Float32Array };
  /** Also time the f16 tensor-core kernels, in this mode. */
  tensorCores?: TensorCoreMode;
}

export interface BlocksBenchTimes {
  precision: 'f32' | 'f16';
  denseMs: number;
  /** Stages 1+2 (row pass, strip sums, stage 2). */
  stagesMs: number;
  sparseMs: number;
  /** denseMs / (stagesMs + sparseMs) */
  speedup: number;
  /** stagesMs / denseMs */
  stageShare: number;
  /** Means over heads of the kept column blocks and slash bands. */
  columnBlocks: number;
  slashBands: number;
  /** Mean over heads of the mask's exact density (kept entries / causal entries). */
  density: number;
  /** Key tiles the sparse pass visited / the causal walk's tiles (its key tile: `keyTile`). */
  tileShare: number;
  keyTile: number;
  /** Max relative error of a spot-checked output row against float64 on the same mask. */
  sparseCheck: number;
}

export interface BlocksBenchResult {
  S: number;
  heads: number;
  kvHeads: number;
  d: number;
  params: BlocksParams;
  sampledRows: number;
  times: BlocksBenchTimes[];
  /** Recall of the timed setting from the library's measured run (runSampleAttention, f32: the
   * exact path every verb's measures use), mean over heads and the worst row. */
  recallMean: number;
  recallMin: number;
}

export async function benchBlocks(ctx: GpuContext, o: BlocksBenchOptions): Promise<BlocksBenchResult> {
  validateBlocksParams(o.params);
  if (!ctx.hasTimestamps) throw new Error('benchBlocks needs the timestamp-query feature; this adapter has none.');
  const { S, heads, kvHeads, d } = o;
  const shape = { heads, kvHeads, S, d };
  const x = o.inputs ?? benchInputs(o);
  const q = uploadTensor(ctx, 'bench q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'bench k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const v = uploadTensor(ctx, 'bench v', [kvHeads, S, d], x.v); // (kvHeads, S, d) f32
  const times: BlocksBenchTimes[] = [];
  try {
    for (const precision of o.tensorCores ? (['f32', 'f16'] as const) : (['f32'] as const)) {
      times.push(await timePrecision(ctx, o, precision, { q, k, v, x, shape }));
    }
    const run = await runSampleAttention(ctx, { q, k, v, heads, kvHeads, S, d, params: blocksSetting(o.params) });
    const recallMean = run.heads.reduce((a, h) => a + h.recallMean, 0) / heads, recallMin = Math.min(...run.heads.map((h) => h.recallMin));
    run.dispose();
    return { S, heads, kvHeads, d, params: o.params, sampledRows: blocksSampledRows(S, o.params.blockSize, o.params.rowRatio).length, times, recallMean, recallMin };
  } finally {
    destroyAll(q, k, v);
  }
}

/** What both precisions time on: the uploaded heads and their host copies. */
interface Shared {
  q: Tensor; k: Tensor; v: Tensor;
  x: { q: Float32Array; k: Float32Array; v: Float32Array };
  shape: AttentionShape;
}

/** One precision's times (timeBlocksKernels, the studio's latency panel's too), then what the last
 * timed run kept, visited and wrote, checked against float64 on its own mask. */
async function timePrecision(ctx: GpuContext, o: BlocksBenchOptions, precision: 'f32' | 'f16', s: Shared): Promise<BlocksBenchTimes> {
  const { S, heads, kvHeads, d } = s.shape;
  const b = o.params.blockSize;
  const tc = precision === 'f16' ? o.tensorCores : undefined;
  const t = await timeBlocksKernels(ctx, { shape: s.shape, q: s.q, k: s.k, v: s.v, params: o.params, repeats: o.repeats, tensorCores: tc }, async ({ stages: st, sparse: sp }) => {
    const nb = st.nb, nt = Math.ceil(S / BLOCKS_BQ);
    const kept = await readU32(ctx, st.kept.buffer, 2 * heads * nb);
    const tiles = await readU32(ctx, sp.tiles.buffer, heads * nt);
    const out = await readTensor(ctx, sp.out);
    const keyTile = tc ? BLOCKS_F16_KEY_TILE : blocksKeyTile(ctx.device, d);
    let causalTiles = 0;
    for (let t = 0; t < nt; t++) causalTiles += heads * (Math.floor((Math.min((t + 1) * BLOCKS_BQ, S) - 1) / keyTile) + 1);
    const r = mulberry32(12345);
    let columnBlocks = 0, slashBands = 0, density = 0, sparseCheck = 0;
    for (let h = 0; h < heads; h++) {
      const flags = (kind: number) => [...Array(nb).keys()].filter((t) => kept[(kind * heads + h) * nb + t] === 1);
      const cols = flags(0), bands = flags(1);
      const mask = blocksMask(S, b, cols, bands);
      const keep = blocksPredicate(mask);
      columnBlocks += cols.length / heads;
      slashBands += bands.length / heads;
      density += blocksDensity(mask) / heads;
      const g = kvHeadOf(h, heads, kvHeads);
      for (const i of [0, S - 1, ...Array.from({ length: 6 }, () => Math.floor(r() * S))]) {
        sparseCheck = Math.max(sparseCheck, rowError(s.x, h, g, i, S, d, (j) => keep(i, j), out));
      }
    }
    return { columnBlocks, slashBands, density, tileShare: tiles.reduce((a, n) => a + n, 0) / causalTiles, keyTile, sparseCheck };
  });
  const { denseMs, stagesMs, sparseMs } = t;
  return {
    precision, denseMs, stagesMs, sparseMs,
    speedup: denseMs / (stagesMs + sparseMs),
    stageShare: stagesMs / denseMs,
    ...t.inspected!,
  };
}
