// Host wrappers of the tensor-core attention kernels (flash.wgsl): dense flash attention with
// log-sum-exp, the sparse SampleAttention pass, stage 1 (sampled rows' log-sum-exp, column
// scores) and the `blocks` variant's block-sparse pass, with the same buffers, outputs and shape
// checks as their f32 twins in gpu/attention/flash.ts, gpu/sample/sparse.ts, gpu/sample/stage1.ts
// and gpu/sample/blocks-sparse.ts, so callers switch a precision, not a data layout.
import type { GpuContext } from '../device';
import { ceilDiv, f32, u32, type Dispatch } from '../kernel';
import type { Tensor } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import type { DenseOutputs } from '../attention/flash';
import type { KeySets, SparseOutputs } from '../sample/sparse';
import type { SampledRows, Stage1Outputs } from '../sample/stage1';
import { BLOCKS_BQ, checkBlocksSparseInputs, type BlocksSparseOutputs } from '../sample/blocks-sparse';
import { flashRows, flashShape, flashShapeName, flashSource, flashUnfit, rowSplits, type FlashMode, type FlashShape, type KvType } from './flash';
import type { TensorCoreMode } from './support';

/** The `attend` kernel's shape (flash.wgsl); absent, the adapter's default (flashShape). The
 * first, staged kernel (attention.wgsl: K and V staged one f16 at a time, six barriers a key
 * tile) lost to it at every shape on the H200 (docs/benchmarks.md) and was deleted (it is in
 * commit 82b1501). */
export type AttendKernel = { shape?: FlashShape; rowSplits?: number };

/** How K and V are stored (their dtype: f16 is read as it is, f32 rounded as it is staged); both
 * alike, and f16 only at a head dimension that is a multiple of 8. Throws a message naming what
 * differs. */
export function kvTypeOf(what: string, d: number, k: Tensor, v?: Tensor): KvType {
  const kt = k.dtype ?? 'f32';
  if (v && (v.dtype ?? 'f32') !== kt) throw new RangeError(`${what}: k ${k.label} is ${kt} but v ${v.label} is ${v.dtype ?? 'f32'}; give both as f16 or both as f32.`);
  if (kt === 'f16' && d % 8 !== 0) throw new RangeError(`${what}: f16 k and v need a head dimension that is a multiple of 8 (whole 16-byte chunks); d is ${d}. Give them as f32 (the kernel rounds them as it stages them).`);
  return kt;
}

/** How q is stored (its dtype; f16 only at a head dimension that is a multiple of 8). */
export function qTypeOf(what: string, d: number, q: Tensor): KvType {
  const t = q.dtype ?? 'f32';
  if (t === 'f16' && d % 8 !== 0) throw new RangeError(`${what}: an f16 q needs a head dimension that is a multiple of 8 (whole 16-byte chunks); d is ${d}. Give it as f32 (the kernel rounds it as it stages it).`);
  return t;
}

/** The `attend` kernel's code and rows per workgroup; a named error when the asked shape cannot run. */
function attendKernel(ctx: GpuContext, tc: TensorCoreMode, d: number, mode: FlashMode, withV: boolean, k: AttendKernel = {}, splits = 1, kv: KvType = 'f32', qt: KvType = 'f32'): { code: string; rows: number } {
  const shape = k.shape ?? flashShape(ctx, d, mode, tc);
  const why = flashUnfit(ctx, d, shape, tc, withV);
  if (why) throw new RangeError(`tensor-core attention (d ${d}, ${mode}): shape ${flashShapeName(shape)} (${shape.nsg} subgroups x ${shape.bkt} keys) cannot run: ${why}.`);
  return { code: flashSource(d, mode, withV, tc, shape, splits, kv, qt), rows: flashRows(shape) };
}

/** Dense causal attention of every head: out (heads, S, d) and lse (heads, S), as flashDispatch. */
export function flashF16Dispatch(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, o: DenseOutputs, scale = 1 / Math.sqrt(s.d), kernel?: AttendKernel): Dispatch {
  checkAttentionShape('f16 dense attention', s, q, k, v);
  const kk = attendKernel(ctx, tc, s.d, 'dense', true, kernel, 1, kvTypeOf('f16 dense attention', s.d, k, v), qTypeOf('f16 dense attention', s.d, q));
  return {
    kernel: { label: 'flash attention f16', code: kk.code, entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, v.buffer, q.buffer, q.buffer, q.buffer, o.out.buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(0)],
    workgroups: [ceilDiv(s.S, kk.rows), s.heads],
  };
}

/** The sparse SampleAttention pass, as sparseDispatch: without v only the sparse lse. */
export function sparseF16Dispatch(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, keys: KeySets, o: SparseOutputs, scale = 1 / Math.sqrt(s.d), kernel?: AttendKernel): Dispatch {
  checkAttentionShape('f16 sparse attention', s, q, k, v);
  if (!!v !== !!o.out) throw new Error('f16 sparse attention: give both v and an output tensor, or neither (log-sum-exp only).');
  const kk = attendKernel(ctx, tc, s.d, 'sparse', !!v, kernel, 1, kvTypeOf('f16 sparse attention', s.d, k, v), qTypeOf('f16 sparse attention', s.d, q));
  return {
    kernel: { label: v ? 'sparse attention f16' : 'sparse lse f16', code: kk.code, entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, (v ?? k).buffer, keys.keyList, keys.keyStats, keys.windows, (o.out ?? o.placeholder ?? o.lse).buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(0)],
    workgroups: [ceilDiv(s.S, kk.rows), s.heads],
  };
}

/** Stage 1, as stage1Dispatches: the sampled rows' lse, then the column scores c_j, both on the
 * chosen kernel (the pipelined column sums at the asked shape where it fits their arrays, else at
 * their own default). The row pass splits each block's keys into rowSplits ranges (kernel.rowSplits
 * forces a count; 1: unsplit) and a third pass merges their partial lse (o.rowParts). */
export function stage1F16Dispatches(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, o: Stage1Outputs, scale = 1 / Math.sqrt(s.d), kernel?: AttendKernel): Dispatch[] {
  checkAttentionShape('f16 stage 1', s, q, k);
  const rowShape = kernel?.shape ?? flashShape(ctx, s.d, 'rows', tc);
  const splits = kernel?.rowSplits ?? rowSplits(s.S, rowShape);
  if (o.rowParts.shape[1] < splits) throw new RangeError(`f16 stage 1: ${splits} key ranges need rowParts of (heads, ${splits}, nMax); it holds ${o.rowParts.shape[1]} (createStage1Outputs' rowSplits).`);
  const kv = kvTypeOf('f16 stage 1', s.d, k), qt = qTypeOf('f16 stage 1', s.d, q);
  const kk = attendKernel(ctx, tc, s.d, 'rows', false, { shape: rowShape }, splits, kv, qt);
  const asked = kernel?.shape && { nsg: kernel.shape.nsg, bkt: kernel.shape.bkt };
  const csShape = asked && !flashUnfit(ctx, s.d, asked, tc, false, 'column_sums') ? asked : flashShape(ctx, s.d, 'rows', tc, 'column_sums');
  const params = [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(rows.nMax)];
  // q stands in for the unused v and window bindings (read-only, never read); out is the row
  // pass's partial lse when split, the column scores in column_sums.
  const bind = (out: Tensor) => [q.buffer, k.buffer, q.buffer, rows.rows, rows.nRows, q.buffer, out.buffer, o.rowLse.buffer];
  const rowPass: Dispatch = { kernel: { label: 'stage1 row lse f16', code: kk.code, entryPoint: 'attend' }, buffers: bind(o.rowParts), params, workgroups: [ceilDiv(rows.nMax, kk.rows) * splits, s.heads] };
  const combine: Dispatch[] = splits > 1
    ? [{ kernel: { label: 'stage1 row lse merge f16', code: kk.code, entryPoint: 'combine_rows' }, buffers: bind(o.rowParts), params, workgroups: [ceilDiv(rows.nMax, 64), s.heads] }]
    : [];
  return [
    rowPass,
    ...combine,
    { kernel: { label: 'stage1 column sums f16', code: flashSource(s.d, 'rows', false, tc, csShape, 1, kv, qt), entryPoint: 'column_sums' }, buffers: bind(o.scores), params, workgroups: [ceilDiv(s.S, csShape.bkt), s.heads] },
  ];
}

/** Keys per tile of the f16 block-sparse pass: the f32 kernel's tile (blocksKeyTile: 32 keys, 64
 * rows), so both skip the same tiles and report the same counts. */
export const BLOCKS_F16_KEY_TILE = 32;

/** The `blocks` variant's block-sparse pass, as blocksSparseDispatch (same kept buffer, outputs
 * and tiles-visited counts): f16 operands, f32 scores, softmax and sums. */
export function blocksSparseF16Dispatch(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, b: number, kept: GPUBuffer, o: BlocksSparseOutputs, scale = 1 / Math.sqrt(s.d)): Dispatch {
  checkBlocksSparseInputs('f16 blocks attention', s, q, k, v, b, kept);
  // flashShape's `blocks` shape: BLOCKS_BQ x BLOCKS_F16_KEY_TILE tiles; attendKernel names a head
  // dimension that does not fit.
  const ak = attendKernel(ctx, tc, s.d, 'blocks', true, {}, 1, kvTypeOf('f16 blocks attention', s.d, k, v), qTypeOf('f16 blocks attention', s.d, q));
  return {
    kernel: { label: 'blocks sparse attention f16', code: ak.code, entryPoint: 'attend' },
    // kept stands in for the unused cnt binding (read-only, never read).
    buffers: [q.buffer, k.buffer, v.buffer, kept, kept, o.tiles.buffer, o.out.buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(b)],
    workgroups: [ceilDiv(s.S, BLOCKS_BQ), s.heads],
  };
}
