// Host wrappers of the tensor-core attention kernels (attention.wgsl): dense flash attention with
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
import { checkBlocksSparseInputs, type BlocksSparseOutputs } from '../sample/blocks-sparse';
import { matrixPrimitives } from './primitives';
import { flashRows, flashShape, flashSource, flashUnfit, qkvBindings, tileWalk, type FlashShape } from './flash';
import type { TensorCoreMode } from './support';
import attentionWgsl from './attention.wgsl';
import blocksMaskWgsl from '../sample/blocks-mask.wgsl';

export type AttentionMode = 'dense' | 'sparse' | 'rows' | 'blocks';
const MODE_ID: Record<AttentionMode, number> = { dense: 0, sparse: 1, rows: 2, blocks: 3 };

/** Keys per tile: 64 keeps d <= 64 inside 48 KiB of workgroup memory; 32 for d up to 128 (and
 * for the emulation, whose scratch needs room). */
export function keysPerTile(d: number, mode: TensorCoreMode): number {
  return d <= 64 && mode === 'real' ? 64 : 32;
}

export function attentionF16Source(d: number, mode: AttentionMode, withV: boolean, tc: TensorCoreMode, bkt = keysPerTile(d, tc)): string {
  if (bkt !== 32 && bkt !== 64) throw new RangeError(`tensor-core attention: keys per tile must be 32 or 64, got ${bkt}.`);
  const DP = Math.ceil(d / 16) * 16;
  const DPS = DP + 8, PS = bkt + 8;
  const nd = DP / 16, nk = bkt / 16;
  const rep = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
  const decl = [
    rep(nd, (c) => `  let qL${c} = load_left_sQ(sg * 16u * DPS + ${16 * c}u, DPS);`),
    withV ? rep(nd, (n) => `  var oA${n} = acc_zero();`) : '',
  ].join('\n');
  const qk = rep(nk, (n) => [
    `    var sA${n} = acc_zero();`,
    rep(nd, (c) => `    sA${n} = mma(qL${c}, load_right_t_sKV(${16 * n}u * DPS + ${16 * c}u, DPS), sA${n});`),
    `    store_acc_sS(sg * 16u * SS + ${16 * n}u, sA${n}, SS);`,
  ].join('\n'));
  const csQk = rep(nk, (n) => [
    `    var sA${n} = acc_zero();`,
    rep(nd, (c) => `    sA${n} = mma(load_left_sQ(sg * 16u * DPS + ${16 * c}u, DPS), load_right_t_sKV(${16 * n}u * DPS + ${16 * c}u, DPS), sA${n});`),
    `    store_acc_sS(sg * 16u * SS + ${16 * n}u, sA${n}, SS);`,
  ].join('\n'));
  const rescale = rep(nd, (n) => `        store_acc_sS(sg * 256u, oA${n}, 16u);\n        workgroupBarrier();\n        scale_scratch(sg, lane);\n        workgroupBarrier();\n        oA${n} = load_acc_sS(sg * 256u, 16u);\n        workgroupBarrier();`);
  const pv = rep(nk, (u) => [
    `      let pL${u} = load_left_sP(sg * 16u * PS + ${16 * u}u, PS);`,
    rep(nd, (n) => `      oA${n} = mma(pL${u}, load_right_sKV(${16 * u}u * DPS + ${16 * n}u, DPS), oA${n});`),
  ].join('\n'));
  const store = rep(nd, (n) => `    store_acc_sS(sg * 256u, oA${n}, 16u);\n    workgroupBarrier();\n    write_out(h, i, sg, lane, ${16 * n}u, l);\n    workgroupBarrier();`);
  const { bindings, loaders } = qkvBindings(d);
  const body = attentionWgsl
    .replace('//@BINDINGS_QKV', bindings)
    .replace('//@LOADERS', loaders)
    .replace('//@DECL', decl)
    .replace('//@QK', qk)
    .replace('//@CS_QK', csQk)
    .replace('//@RESCALE_O', withV ? rescale : '')
    .replace('//@PV', withV ? pv : '')
    .replace('//@STORE_O', withV ? store : '')
    .replace('//@RECORD_TILES', mode === 'blocks' ? '  if (lid == 0u) { win[h * nwg.x + q0 / BQ] = visited; }' : '');
  const consts = [
    `const D: u32 = ${d}u;`, `const DP: u32 = ${DP}u;`, `const DPS: u32 = ${DPS}u;`, `const BKT: u32 = ${bkt}u;`,
    `const PS: u32 = ${PS}u;`, `const MODE: u32 = ${MODE_ID[mode]}u;`, `const WITH_V: bool = ${withV};`,
  ];
  const prims = matrixPrimitives({
    emulate: tc === 'emulated',
    subgroups: 4,
    arrays: [
      { name: 'sQ', elem: 'f16', uses: ['left'] },
      { name: 'sKV', elem: 'f16', uses: ['right', 'right_t'] },
      { name: 'sP', elem: 'f16', uses: ['left'] },
      { name: 'sS', elem: 'f32', uses: ['acc'] },
    ],
  });
  return [prims, ...consts, body, tileWalk(mode), blocksMaskWgsl].join('\n');
}

const BQ = 64; // rows a workgroup of the staged kernel owns

/** Workgroup memory of attentionF16Source's kernel: attention.wgsl's arrays (sQ, sKV f16; sS f32;
 * sP f16; sCorr, two flags), each rounded up to 16 bytes, and the emulation's two f16 scratch
 * matrices per subgroup (primitives.ts). */
export function attentionF16WorkgroupBytes(d: number, tc: TensorCoreMode, bkt: number): number {
  const DPS = Math.ceil(d / 16) * 16 + 8;
  const r16 = (n: number) => Math.ceil(n / 16) * 16;
  const arrays = [BQ * DPS * 2, bkt * DPS * 2, BQ * (bkt + 4) * 4, BQ * (bkt + 8) * 2, BQ * 4, 4, 4];
  const emulation = tc === 'emulated' ? [4 * 256 * 2, 4 * 256 * 2] : [];
  return [...arrays, ...emulation].reduce((a, n) => a + r16(n), 0);
}

/** Which kernel runs `attend`: the pipelined one (flash.wgsl, the default) at a shape, or the
 * staged one (attention.wgsl) at a key tile; absent fields take the defaults for the adapter. */
export type AttendKernel = { kind: 'pipelined'; shape?: FlashShape } | { kind: 'staged'; bkt?: number };

/** The `attend` kernel's code and rows per workgroup; a named error when the asked shape cannot run. */
function attendKernel(ctx: GpuContext, tc: TensorCoreMode, d: number, mode: AttentionMode, withV: boolean, k: AttendKernel = { kind: 'pipelined' }): { code: string; rows: number; keys: number } {
  if (k.kind === 'staged') {
    const bkt = k.bkt ?? keysPerTile(d, tc);
    return { code: attentionF16Source(d, mode, withV, tc, bkt), rows: BQ, keys: bkt };
  }
  const shape = k.shape ?? flashShape(ctx, d, mode, tc);
  const why = flashUnfit(ctx, d, shape, tc, withV);
  if (why) throw new RangeError(`tensor-core attention (d ${d}, ${mode}): shape ${shape.nsg} subgroups x ${shape.bkt} keys cannot run: ${why}.`);
  return { code: flashSource(d, mode, withV, tc, shape), rows: flashRows(shape), keys: shape.bkt };
}

/** Dense causal attention of every head: out (heads, S, d) and lse (heads, S), as flashDispatch. */
export function flashF16Dispatch(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, o: DenseOutputs, scale = 1 / Math.sqrt(s.d), kernel?: AttendKernel): Dispatch {
  checkAttentionShape('f16 dense attention', s, q, k, v);
  const kk = attendKernel(ctx, tc, s.d, 'dense', true, kernel);
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
  const kk = attendKernel(ctx, tc, s.d, 'sparse', !!v, kernel);
  return {
    kernel: { label: v ? 'sparse attention f16' : 'sparse lse f16', code: kk.code, entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, (v ?? k).buffer, keys.keyList, keys.keyStats, keys.windows, (o.out ?? o.placeholder ?? o.lse).buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(0)],
    workgroups: [ceilDiv(s.S, kk.rows), s.heads],
  };
}

/** Stage 1, as stage1Dispatches: the sampled rows' lse, then the column scores c_j, both on the
 * chosen kernel (the pipelined column sums at the asked shape where it fits their arrays, else at
 * their own default). */
export function stage1F16Dispatches(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, o: Stage1Outputs, scale = 1 / Math.sqrt(s.d), kernel?: AttendKernel): Dispatch[] {
  checkAttentionShape('f16 stage 1', s, q, k);
  const kk = attendKernel(ctx, tc, s.d, 'rows', false, kernel);
  let cs: { code: string; keys: number };
  if (kernel?.kind === 'staged') {
    const keys = kernel.bkt ?? keysPerTile(s.d, tc);
    cs = { code: attentionF16Source(s.d, 'rows', false, tc, keys), keys };
  } else {
    const asked = kernel?.shape;
    const shape = asked && !flashUnfit(ctx, s.d, asked, tc, false, 'column_sums') ? asked : flashShape(ctx, s.d, 'rows', tc, 'column_sums');
    cs = { code: flashSource(s.d, 'rows', false, tc, shape), keys: shape.bkt };
  }
  const buffers = [q.buffer, k.buffer, q.buffer, rows.rows, rows.nRows, q.buffer, o.scores.buffer, o.rowLse.buffer];
  const params = [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(rows.nMax)];
  return [
    { kernel: { label: 'stage1 row lse f16', code: kk.code, entryPoint: 'attend' }, buffers, params, workgroups: [ceilDiv(rows.nMax, kk.rows), s.heads] },
    { kernel: { label: 'stage1 column sums f16', code: cs.code, entryPoint: 'column_sums' }, buffers, params, workgroups: [ceilDiv(s.S, cs.keys), s.heads] },
  ];
}

/** Keys per tile of the f16 block-sparse pass: the f32 kernel's tile (blocksKeyTile: 32 keys, 64
 * rows), so both skip the same tiles and report the same counts. */
export const BLOCKS_F16_KEY_TILE = 32;

/** The `blocks` variant's block-sparse pass, as blocksSparseDispatch (same kept buffer, outputs
 * and tiles-visited counts): f16 operands, f32 scores, softmax and sums. */
export function blocksSparseF16Dispatch(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, b: number, kept: GPUBuffer, o: BlocksSparseOutputs, scale = 1 / Math.sqrt(s.d), kernel: AttendKernel = { kind: 'pipelined', shape: { nsg: 4, bkt: BLOCKS_F16_KEY_TILE } }): Dispatch {
  checkBlocksSparseInputs('f16 blocks attention', s, q, k, v, b, kept);
  const kk = kernel.kind === 'staged' ? { ...kernel, bkt: BLOCKS_F16_KEY_TILE } : kernel;
  if (kk.kind === 'staged') {
    const bytes = attentionF16WorkgroupBytes(s.d, tc, BLOCKS_F16_KEY_TILE), max = ctx.device.limits.maxComputeWorkgroupStorageSize;
    if (bytes > max) throw new Error(`f16 blocks attention: head dimension ${s.d} needs ${bytes} bytes of workgroup memory; this adapter offers ${max}.`);
  } else if (kk.shape && (flashRows(kk.shape) !== BQ || kk.shape.bkt !== BLOCKS_F16_KEY_TILE)) {
    throw new RangeError(`f16 blocks attention: the tiles-visited counts are per ${BQ} x ${BLOCKS_F16_KEY_TILE} tile; shape ${kk.shape.nsg} x ${kk.shape.bkt} cannot report them.`);
  }
  const ak = attendKernel(ctx, tc, s.d, 'blocks', true, kk);
  return {
    kernel: { label: 'blocks sparse attention f16', code: ak.code, entryPoint: 'attend' },
    // kept stands in for the unused cnt binding (read-only, never read).
    buffers: [q.buffer, k.buffer, v.buffer, kept, kept, o.tiles.buffer, o.out.buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(b)],
    workgroups: [ceilDiv(s.S, BQ), s.heads],
  };
}
