// Host wrappers of the tensor-core attention kernels (attention.wgsl): dense flash attention with
// log-sum-exp, the sparse SampleAttention pass and stage 1 (sampled rows' log-sum-exp, column
// scores), with the same buffers, outputs and shape checks as their f32 twins in
// gpu/attention/flash.ts, gpu/sample/sparse.ts and gpu/sample/stage1.ts, so callers switch a
// precision, not a data layout.
import type { GpuContext } from '../device';
import { ceilDiv, f32, u32, type Dispatch } from '../kernel';
import type { Tensor } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import type { DenseOutputs } from '../attention/flash';
import type { KeySets, SparseOutputs } from '../sample/sparse';
import type { SampledRows, Stage1Outputs } from '../sample/stage1';
import { matrixPrimitives } from './primitives';
import type { TensorCoreMode } from './support';
import attentionWgsl from './attention.wgsl';
import tilesWgsl from '../attention/tiles.wgsl';

export type AttentionMode = 'dense' | 'sparse' | 'rows';
const MODE_ID: Record<AttentionMode, number> = { dense: 0, sparse: 1, rows: 2 };

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
  const vec = d % 4 === 0;
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
  const bindings = vec
    ? ['q', 'k', 'v'].map((b, i) => `@group(0) @binding(${i}) var<storage, read> ${b}: array<vec4<f32>>;`).join('\n') + ' // (heads | kvHeads, S, D / 4)'
    : ['q', 'k', 'v'].map((b, i) => `@group(0) @binding(${i}) var<storage, read> ${b}: array<f32>;`).join('\n') + ' // (heads | kvHeads, S, D)';
  const loader = (name: string) => vec
    ? `fn ${name}4(hh: u32, row: u32, c: u32) -> vec4<f32> { if (c >= D) { return vec4<f32>(0.0); } return ${name}[((hh * p.S + row) * D + c) / 4u]; }`
    : `fn ${name}4(hh: u32, row: u32, c: u32) -> vec4<f32> { var x = vec4<f32>(0.0); for (var e = 0u; e < 4u; e++) { if (c + e < D) { x[e] = ${name}[(hh * p.S + row) * D + c + e]; } } return x; }`;
  const body = attentionWgsl
    .replace('//@BINDINGS_QKV', bindings)
    .replace('//@LOADERS', ['q', 'k', 'v'].map(loader).join('\n'))
    .replace('//@DECL', decl)
    .replace('//@QK', qk)
    .replace('//@CS_QK', csQk)
    .replace('//@RESCALE_O', withV ? rescale : '')
    .replace('//@PV', withV ? pv : '')
    .replace('//@STORE_O', withV ? store : '');
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
  return [prims, ...consts, body, tilesWgsl].join('\n');
}

const BQ = 64;

/** Dense causal attention of every head: out (heads, S, d) and lse (heads, S), as flashDispatch. */
export function flashF16Dispatch(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, o: DenseOutputs, scale = 1 / Math.sqrt(s.d), bkt?: number): Dispatch {
  checkAttentionShape('f16 dense attention', s, q, k, v);
  return {
    kernel: { label: 'flash attention f16', code: attentionF16Source(s.d, 'dense', true, tc, bkt), entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, v.buffer, q.buffer, q.buffer, q.buffer, o.out.buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(0)],
    workgroups: [ceilDiv(s.S, BQ), s.heads],
  };
}

/** The sparse SampleAttention pass, as sparseDispatch: without v only the sparse lse. */
export function sparseF16Dispatch(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, keys: KeySets, o: SparseOutputs, scale = 1 / Math.sqrt(s.d), bkt?: number): Dispatch {
  checkAttentionShape('f16 sparse attention', s, q, k, v);
  if (!!v !== !!o.out) throw new Error('f16 sparse attention: give both v and an output tensor, or neither (log-sum-exp only).');
  return {
    kernel: { label: v ? 'sparse attention f16' : 'sparse lse f16', code: attentionF16Source(s.d, 'sparse', !!v, tc, bkt), entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, (v ?? k).buffer, keys.keyList, keys.keyStats, keys.windows, (o.out ?? o.placeholder ?? o.lse).buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(0)],
    workgroups: [ceilDiv(s.S, BQ), s.heads],
  };
}

/** Stage 1, as stage1Dispatches: the sampled rows' lse, then the column scores c_j. */
export function stage1F16Dispatches(ctx: GpuContext, tc: TensorCoreMode, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, o: Stage1Outputs, scale = 1 / Math.sqrt(s.d), bkt?: number): Dispatch[] {
  checkAttentionShape('f16 stage 1', s, q, k);
  const code = attentionF16Source(s.d, 'rows', false, tc, bkt);
  const keysPer = bkt ?? keysPerTile(s.d, tc);
  const buffers = [q.buffer, k.buffer, q.buffer, rows.rows, rows.nRows, q.buffer, o.scores.buffer, o.rowLse.buffer];
  const params = [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(rows.nMax)];
  return [
    { kernel: { label: 'stage1 row lse f16', code, entryPoint: 'attend' }, buffers, params, workgroups: [ceilDiv(rows.nMax, BQ), s.heads] },
    { kernel: { label: 'stage1 column sums f16', code, entryPoint: 'column_sums' }, buffers, params, workgroups: [ceilDiv(s.S, keysPer), s.heads] },
  ];
}
