// `sa-studio select --variant blocks`: the `blocks` variant's per-head selection (sampled tail
// rows, column blocks, slash bands) and measures, on the CPU with its float64 reference
// (src/sampleattention/spec/blocks/reference.ts). select.ts parses the flags and the file and writes the JSON.
import { selectAllBlocks, type BlocksHeadSelection } from '../src/sampleattention/spec/blocks/reference';
import type { BlocksParams } from '../src/sampleattention/spec/blocks/params';
import type { QkTensors } from '../src/sampleattention/formats/qk-file';

export interface BlocksSelectOutput {
  S: number;
  d: number;
  numHeads: number;
  numKvHeads: number;
  scale: number;
  variant: 'blocks';
  params: BlocksParams;
  heads: BlocksHeadSelection[];
}

export function selectBlocks(t: QkTensors, scale: number, params: BlocksParams, log: (line: string) => void): BlocksSelectOutput {
  log(`select: ${t.heads} heads (${t.kvHeads} kv heads), S = ${t.S}, d = ${t.d}; variant blocks, blockSize ${params.blockSize}, alphaColumn ${params.alphaColumn}, alphaSlash ${params.alphaSlash}, rowRatio ${params.rowRatio}`);
  const t0 = Date.now();
  const heads = selectAllBlocks(t.q, t.k, t.heads, t.kvHeads, t.S, t.d, params, {
    v: t.v,
    scale,
    onHead: (sel, n) =>
      log(
        `  head ${sel.head + 1}/${n}: ${sel.columnBlocks.length} column blocks, ${sel.slashBands.length} slash bands, recall mean ${sel.recallMean.toFixed(4)} min ${sel.recallMin.toFixed(4)} P5 ${sel.recallP5.toFixed(4)}, density ${sel.density.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      ),
  });
  return { S: t.S, d: t.d, numHeads: t.heads, numKvHeads: t.kvHeads, scale, variant: 'blocks', params, heads };
}
