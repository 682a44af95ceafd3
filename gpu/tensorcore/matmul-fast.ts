// Candidate tensor-core matmuls for issue 12's speed targets (matmul-fast.wgsl): the same
// y = x W^T (+ b) as matmul.ts, with 16-byte loads, double-buffered workgroup tiles, W read
// straight from storage, and x optionally f16 in memory. None is the default until the H200
// sweep (`sa-studio bench --matmul 4096 --sweep`) measures it; MATMUL_CANDIDATES names them.
import type { GpuContext } from '../device';
import { ceilDiv, u32, type Dispatch } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import { matrixPrimitives } from './primitives';
import type { TensorCoreMode } from './support';
import { tileBlock, type MatmulTile } from './matmul';
import fastWgsl from './matmul-fast.wgsl';

export interface MatmulCandidate {
  name: string;
  /** SGR x SGC subgroups, TM x TN accumulators each; BK a multiple of 16 (pad is unused: rows are padded by one 16-byte element). */
  tile: Omit<MatmulTile, 'pad'>;
  /** 2: double-buffered workgroup tiles (one barrier a slab); 1: one buffer, two barriers. */
  nbuf: 1 | 2;
  /** W's right operands loaded from the storage buffer, no workgroup copy (needs N % BN == 0, K % BK == 0). */
  directW: boolean;
  /** x is an f16 tensor (converted once, e.g. by toF16Dispatch); else f32 rounded as it is staged. */
  xF16: boolean;
}

const t = (SGR: number, SGC: number, TM: number, TN: number, BK: number) => ({ SGR, SGC, TM, TN, BK });

/** What the device sweep times, beside the default kernel (matmul.ts). */
export const MATMUL_CANDIDATES: MatmulCandidate[] = [
  { name: 'vec16B 128x128x32 1buf', tile: t(4, 2, 2, 4, 32), nbuf: 1, directW: false, xF16: false },
  { name: 'vec16B 128x128x32 2buf', tile: t(4, 2, 2, 4, 32), nbuf: 2, directW: false, xF16: false },
  { name: 'vec16B 128x128x64 2buf', tile: t(4, 2, 2, 4, 64), nbuf: 2, directW: false, xF16: false },
  { name: 'xf16 128x128x32 2buf', tile: t(4, 2, 2, 4, 32), nbuf: 2, directW: false, xF16: true },
  { name: 'xf16 128x128x64 2buf', tile: t(4, 2, 2, 4, 64), nbuf: 2, directW: false, xF16: true },
  { name: 'xf16 128x256x32 2buf', tile: t(4, 2, 2, 8, 32), nbuf: 2, directW: false, xF16: true },
  { name: 'xf16 256x128x32 2buf', tile: t(4, 2, 4, 4, 32), nbuf: 2, directW: false, xF16: true },
  { name: 'xf16 128x128x32 2buf 4sg', tile: t(2, 2, 4, 4, 32), nbuf: 2, directW: false, xF16: true },
  { name: 'xf16 64x128x64 2buf 4sg', tile: t(2, 2, 2, 4, 64), nbuf: 2, directW: false, xF16: true },
  { name: 'xf16 directW 128x128x32 2buf', tile: t(4, 2, 2, 4, 32), nbuf: 2, directW: true, xF16: true },
  { name: 'xf16 directW 128x64x64 2buf', tile: t(4, 2, 2, 2, 64), nbuf: 2, directW: true, xF16: true },
  { name: 'f32x directW 128x128x32 2buf', tile: t(4, 2, 2, 4, 32), nbuf: 2, directW: true, xF16: false },
];

function blockOf(c: MatmulCandidate) {
  return tileBlock({ ...c.tile, pad: 0 });
}

export function fastWorkgroupBytes(c: MatmulCandidate): number {
  const { BM, BN } = blockOf(c);
  const rowBytes = 16 * (c.tile.BK / 8 + 1);
  return c.nbuf * (BM + (c.directW ? 0 : BN)) * rowBytes + 4 * 256 * c.tile.SGR * c.tile.SGC;
}

/** Why this candidate cannot run y (M, N) = x (.., K) W^T here, or null. */
export function candidateUnfit(ctx: GpuContext, c: MatmulCandidate, M: number, N: number, K: number): string | null {
  const { BN } = blockOf(c);
  const { SGR, SGC, TM, TN, BK } = c.tile;
  if (![SGR, SGC, TM, TN].every((v) => Number.isInteger(v) && v >= 1 && v <= 8) || !(BK % 16 === 0 && BK >= 16 && BK <= 128)) return `bad tile ${JSON.stringify(c.tile)}`;
  if (K % 8 !== 0) return `K ${K} is not a multiple of 8`;
  if (c.directW && (N % BN !== 0 || K % BK !== 0)) return `direct W needs N % ${BN} == 0 and K % ${BK} == 0 (N ${N}, K ${K})`;
  const threads = SGR * SGC * 32;
  if (threads > ctx.device.limits.maxComputeInvocationsPerWorkgroup) return `${threads} threads exceed the adapter's ${ctx.device.limits.maxComputeInvocationsPerWorkgroup}`;
  const bytes = fastWorkgroupBytes(c);
  if (bytes > ctx.device.limits.maxComputeWorkgroupStorageSize) return `${bytes} bytes of workgroup memory exceed the adapter's ${ctx.device.limits.maxComputeWorkgroupStorageSize}`;
  return null;
}

export function matmulFastSource(c: MatmulCandidate, mode: TensorCoreMode): string {
  const { BM, BN } = blockOf(c);
  const { SGR, SGC, TM, TN, BK } = c.tile;
  const NSG = SGR * SGC, NT = NSG * 32, KV = BK / 8, ASV = KV + 1, BSV = KV + 1;
  const rep = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
  const accs: [number, number][] = [];
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) accs.push([i, j]);
  const lines = (f: (i: number, j: number) => string) => accs.map(([i, j]) => f(i, j)).join('\n');
  // Registers <- global (slab starting at k `k`), registers -> buffer `b`.
  const loadRegs = (k: string) => [
    `  for (var t = 0u; t < A_PER; t++) { let e = lid + t * NT; if (e < BM * KV) { ra[t] = x_chunk(row0 + e / KV, ${k} + 8u * (e % KV)); } }`,
    c.directW ? '' : `  for (var t = 0u; t < B_PER; t++) { let e = lid + t * NT; if (e < BN * KV) { rb[t] = w_chunk(col0 + e / KV, ${k} + 8u * (e % KV)); } }`,
  ].join('\n');
  const storeRegs = (b: string) => [
    `  for (var t = 0u; t < A_PER; t++) { let e = lid + t * NT; if (e < BM * KV) { sA[${b} * (BM * ASV) + (e / KV) * ASV + e % KV] = ra[t]; } }`,
    c.directW ? '' : `  for (var t = 0u; t < B_PER; t++) { let e = lid + t * NT; if (e < BN * KV) { sB[${b} * (BN * BSV) + (e / KV) * BSV + e % KV] = rb[t]; } }`,
  ].join('\n');
  // One slab's products, the BK / 16 steps unrolled (all of a step's loads before its products).
  const mmaSlab = rep(BK / 16, (q) => [
    ...Array.from({ length: TM }, (_, i) => `      let a${q}_${i} = load_left_sA(buf * (BM * ASV) + (sr + ${16 * i}u) * ASV + ${2 * q}u, ASV);`),
    ...Array.from({ length: TN }, (_, j) => c.directW
      ? `      let b${q}_${j} = load_right_t_w((col0 + sc + ${16 * j}u) * KW + k0 / 8u + ${2 * q}u, KW);`
      : `      let b${q}_${j} = load_right_t_sB(buf * (BN * BSV) + (sc + ${16 * j}u) * BSV + ${2 * q}u, BSV);`),
    lines((i, j) => `      acc${i}_${j} = mma(a${q}_${i}, b${q}_${j}, acc${i}_${j});`),
  ].join('\n'));
  const slab = c.nbuf === 1
    ? [mmaSlab, '    workgroupBarrier();', '    if (more) {', storeRegs('0u'), '    }', '    workgroupBarrier();'].join('\n')
    : [mmaSlab, '    if (more) {', storeRegs('(1u - buf)'), '    }', '    workgroupBarrier();'].join('\n');
  const bindings = [
    c.xF16
      ? '@group(0) @binding(0) var<storage, read> x: array<vec4<u32>>;      // (rows, K / 8) f16, 8 a vec4'
      : '@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;      // (rows, K / 4) f32',
    '@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;      // (N, K / 8) f16, 8 a vec4',
  ].join('\n');
  const chunks = [
    c.xF16
      ? `fn x_chunk(r: u32, k: u32) -> vec4<u32> {
  if (r >= p.M || k >= p.K) { return vec4<u32>(0u); }
  return x[((p.xRow0 + r) * p.K + k) / 8u];
}`
      : `fn x_chunk(r: u32, k: u32) -> vec4<u32> {
  if (r >= p.M || k >= p.K) { return vec4<u32>(0u); }
  let i = ((p.xRow0 + r) * p.K + k) / 4u;
  let a = vec4<f16>(x[i]);
  let b = vec4<f16>(x[i + 1u]);
  return vec4<u32>(bitcast<u32>(a.xy), bitcast<u32>(a.zw), bitcast<u32>(b.xy), bitcast<u32>(b.zw));
}`,
    `fn w_chunk(n: u32, k: u32) -> vec4<u32> {
  if (n >= p.N || k >= p.K) { return vec4<u32>(0u); }
  return w[(n * p.K + k) / 8u];
}`,
  ].join('\n');
  const body = fastWgsl
    .replace('//@BINDINGS_XW', bindings)
    .replace('//@DECL_SB', c.directW ? '' : 'var<workgroup> sB: array<vec4<u32>, NBUF * BN * BSV>;  // [buf][n][k / 8]')
    .replace('//@CHUNKS', chunks)
    .replace('//@DECL_ACC', lines((i, j) => `  var acc${i}_${j} = acc_zero();`))
    .replace('//@LOAD_REGS_0', loadRegs('0u'))
    .replace('//@STORE_REGS_0', storeRegs('0u'))
    .replace('//@LOAD_REGS_NEXT', loadRegs('kn'))
    .replace('//@SLAB', slab)
    .replace('//@EPILOGUE_SCRATCH', lines((i, j) => `  store_acc_sC(sg * 256u, acc${i}_${j}, 16u);\n  workgroupBarrier();\n  write_tile(sg, lane, row0 + sr + ${16 * i}u, col0 + sc + ${16 * j}u);\n  workgroupBarrier();`));
  const consts = [
    `const BM: u32 = ${BM}u;`, `const BN: u32 = ${BN}u;`, `const BK: u32 = ${BK}u;`, `const NT: u32 = ${NT}u;`,
    `const NSG: u32 = ${NSG}u;`, `const SGC: u32 = ${SGC}u;`, `const TM: u32 = ${TM}u;`, `const TN: u32 = ${TN}u;`,
    `const KV: u32 = ${KV}u;`, `const ASV: u32 = ${ASV}u;`, `const BSV: u32 = ${BSV}u;`, `const NBUF: u32 = ${c.nbuf}u;`,
  ];
  const prims = matrixPrimitives({
    emulate: mode === 'emulated',
    subgroups: NSG,
    arrays: [
      { name: 'sA', elem: 'f16x8', uses: ['left'] },
      c.directW ? { name: 'w', elem: 'f16x8', uses: ['right_t'] } : { name: 'sB', elem: 'f16x8', uses: ['right_t'] },
      { name: 'sC', elem: 'f32', uses: ['acc'] },
    ],
  });
  return [prims, ...consts, body].join('\n');
}

export interface MatmulFastArgs {
  /** (rows >= xRow0 + M, K) f32, or f16 when the candidate has xF16 */
  x: Tensor;
  /** (N, K) f16 */
  w: Tensor;
  /** (N) f32, optional */
  bias?: Tensor;
  /** (M, N) f32 */
  y: Tensor;
  xRow0?: number;
}

/** A candidate's dispatch; a RangeError when the shapes do not fit it (candidateUnfit says why). */
export function matmulFastDispatch(ctx: GpuContext, mode: TensorCoreMode, c: MatmulCandidate, a: MatmulFastArgs): Dispatch {
  const { x, w, bias, y } = a;
  const xRow0 = a.xRow0 ?? 0;
  if (x.shape.length !== 2 || w.shape.length !== 2 || y.shape.length !== 2) throw new RangeError(`f16 matmul ${c.name}: x ${shapeString(x.shape)}, W ${shapeString(w.shape)} and y ${shapeString(y.shape)} must all be 2-D.`);
  if (w.dtype !== 'f16') throw new RangeError(`f16 matmul ${c.name}: W ${w.label} must be an f16 tensor.`);
  const xType = x.dtype ?? 'f32';
  if (xType !== (c.xF16 ? 'f16' : 'f32')) throw new RangeError(`f16 matmul ${c.name}: x ${x.label} must be ${c.xF16 ? 'f16' : 'f32'}, got ${xType}.`);
  if ((y.dtype ?? 'f32') !== 'f32') throw new RangeError(`f16 matmul ${c.name}: y is an f32 tensor.`);
  const [M, N] = y.shape;
  const K = w.shape[1];
  if (w.shape[0] !== N) throw new RangeError(`f16 matmul ${c.name}: W ${w.label} has ${w.shape[0]} rows but y ${y.label} has ${N} columns.`);
  if (x.shape[1] !== K) throw new RangeError(`f16 matmul ${c.name}: x ${x.label} ${shapeString(x.shape)} has ${x.shape[1]} columns but W expects K = ${K}.`);
  if (xRow0 + M > x.shape[0]) throw new RangeError(`f16 matmul ${c.name}: rows ${xRow0} .. ${xRow0 + M} of x ${x.label} ${shapeString(x.shape)} do not exist.`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N)) throw new RangeError(`f16 matmul ${c.name}: bias ${bias.label} ${shapeString(bias.shape)} must be (${N}).`);
  const unfit = candidateUnfit(ctx, c, M, N, K);
  if (unfit) throw new RangeError(`f16 matmul ${c.name}: ${unfit}.`);
  const { BM, BN } = blockOf(c);
  return {
    kernel: { label: `matmul f16 ${c.name}`, code: matmulFastSource(c, mode) },
    // Without a bias, x stands in for it (read-only, never read as bias).
    buffers: [x.buffer, w.buffer, (bias ?? x).buffer, y.buffer],
    params: [u32(M), u32(N), u32(K), u32(bias ? 1 : 0), u32(xRow0)],
    workgroups: [ceilDiv(N, BN), ceilDiv(M, BM)],
  };
}
