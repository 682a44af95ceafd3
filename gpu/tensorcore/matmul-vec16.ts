// The default tensor-core matmul (matmul-vec16.wgsl): y = x W^T (+ b) with f32 x rounded to f16 as
// it is staged, f16 W in Linear layout (N, K), f32 y, f32 accumulation, moved in 16-byte units
// (vec4<u32> of 8 halves) and double-buffered. Needs K % 8 == 0; matmul.ts picks it, or the staged
// kernel where it does not apply (the H200 figures are there).
import type { GpuContext } from '../device';
import { ceilDiv, u32, type Dispatch } from '../kernel';
import type { Tensor } from '../tensor';
import { blockedLoad, blockedStoreAcc, matrixPrimitives } from './primitives';
import type { TensorCoreMode } from './support';
import vec16Wgsl from './matmul-vec16.wgsl';

/** SGR x SGC subgroups, each TM x TN 16 x 16 accumulators; BK a multiple of 16; 1 or 2 workgroup buffers. */
export interface Vec16Shape {
  SGR: number;
  SGC: number;
  TM: number;
  TN: number;
  BK: number;
  /** 2: double-buffered workgroup tiles (one barrier a slab); 1: one buffer, two barriers a slab. */
  nbuf: 1 | 2;
}

export function vec16Block(s: Vec16Shape): { BM: number; BN: number } {
  return { BM: s.SGR * s.TM * 16, BN: s.SGC * s.TN * 16 };
}

/** Workgroup bytes: the x and W slabs (rows padded by one 16-byte element), the epilogue's 16 x 16
 * f32 tile per subgroup and, emulated, the primitives' two 16 x 16 f16 scratch tiles per subgroup. */
export function vec16WorkgroupBytes(s: Vec16Shape, mode: TensorCoreMode): number {
  const { BM, BN } = vec16Block(s);
  const NSG = s.SGR * s.SGC;
  return s.nbuf * (BM + BN) * 16 * (s.BK / 8 + 1) + 4 * 256 * NSG + (mode === 'emulated' ? 2 * 2 * 256 * NSG : 0);
}

/** Why this shape cannot run with reduction length K on this device, or null. */
export function vec16Unfit(ctx: GpuContext, mode: TensorCoreMode, s: Vec16Shape, K: number): string | null {
  if (![s.SGR, s.SGC, s.TM, s.TN].every((v) => Number.isInteger(v) && v >= 1 && v <= 8) || !(s.BK % 16 === 0 && s.BK >= 16 && s.BK <= 128) || (s.nbuf !== 1 && s.nbuf !== 2)) return `bad shape ${JSON.stringify(s)}`;
  if (K % 8 !== 0) return `K ${K} is not a multiple of 8`;
  const threads = s.SGR * s.SGC * 32;
  if (threads > ctx.device.limits.maxComputeInvocationsPerWorkgroup) return `${threads} threads exceed the adapter's ${ctx.device.limits.maxComputeInvocationsPerWorkgroup}`;
  const bytes = vec16WorkgroupBytes(s, mode);
  if (bytes > ctx.device.limits.maxComputeWorkgroupStorageSize) return `${bytes} bytes of workgroup memory exceed the adapter's ${ctx.device.limits.maxComputeWorkgroupStorageSize}`;
  return null;
}

/** x as the kernel reads it: f32 (two 16-byte loads for 8 k, rounded to f16) or f16 (one load).
 * An f16 x halves the activation bytes a slab reads (H200 figures in docs/benchmarks.md). */
export type MatmulXType = 'f32' | 'f16';

const X_SOURCES: Record<MatmulXType, { binding: string; chunk: string }> = {
  f32: {
    binding: '@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;      // (rows, K / 4) f32',
    chunk: `fn x_chunk(r: u32, k: u32) -> vec4<u32> {
  if (r >= p.M || k >= p.K) { return vec4<u32>(0u); }
  let i = ((p.xRow0 + r) * p.K + k) / 4u;
  let a = vec4<f16>(x[i]);
  let b = vec4<f16>(x[i + 1u]);
  return vec4<u32>(bitcast<u32>(a.xy), bitcast<u32>(a.zw), bitcast<u32>(b.xy), bitcast<u32>(b.zw));
}`,
  },
  f16: {
    binding: '@group(0) @binding(0) var<storage, read> x: array<vec4<u32>>;      // (rows, K / 8) f16, 8 a vec4',
    chunk: `fn x_chunk(r: u32, k: u32) -> vec4<u32> {
  if (r >= p.M || k >= p.K) { return vec4<u32>(0u); }
  return x[((p.xRow0 + r) * p.K + k) / 8u];
}`,
  },
};

export function matmulVec16Source(s: Vec16Shape, mode: TensorCoreMode, xt: MatmulXType = 'f32'): string {
  const { BM, BN } = vec16Block(s);
  const { SGR, SGC, TM, TN, BK } = s;
  const NSG = SGR * SGC, NT = NSG * 32, KV = BK / 8, ASV = KV + 1, BSV = KV + 1;
  const rep = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
  const accs: [number, number][] = [];
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) accs.push([i, j]);
  const lines = (f: (i: number, j: number) => string) => accs.map(([i, j]) => f(i, j)).join('\n');
  // Registers <- global (slab starting at k `k`), registers -> buffer `b`.
  const loadRegs = (k: string) => [
    `  for (var t = 0u; t < A_PER; t++) { let e = lid + t * NT; if (e < BM * KV) { ra[t] = x_chunk(row0 + e / KV, ${k} + 8u * (e % KV)); } }`,
    `  for (var t = 0u; t < B_PER; t++) { let e = lid + t * NT; if (e < BN * KV) { rb[t] = w_chunk(col0 + e / KV, ${k} + 8u * (e % KV)); } }`,
  ].join('\n');
  const storeRegs = (b: string) => [
    `  for (var t = 0u; t < A_PER; t++) { let e = lid + t * NT; if (e < BM * KV) { let m = e / KV; sA[${b} * SGR + m / (16u * TM)][(m % (16u * TM)) * ASV + e % KV] = ra[t]; } }`,
    `  for (var t = 0u; t < B_PER; t++) { let e = lid + t * NT; if (e < BN * KV) { let n = e / KV; sB[${b} * SGC + n / (16u * TN)][(n % (16u * TN)) * BSV + e % KV] = rb[t]; } }`,
  ].join('\n');
  const em = mode === 'emulated';
  // One slab's products, the BK / 16 steps unrolled (all of a step's loads before its products).
  const mmaSlab = rep(BK / 16, (q) => [
    ...Array.from({ length: TM }, (_, i) => `      let a${q}_${i} = ${blockedLoad(em, 'sA', 'left', 'buf * SGR + sg / SGC', 16 * i * ASV + 2 * q, ASV)};`),
    ...Array.from({ length: TN }, (_, j) => `      let b${q}_${j} = ${blockedLoad(em, 'sB', 'right_t', 'buf * SGC + sg % SGC', 16 * j * BSV + 2 * q, BSV)};`),
    lines((i, j) => `      acc${i}_${j} = mma(a${q}_${i}, b${q}_${j}, acc${i}_${j});`),
  ].join('\n'));
  const slab = s.nbuf === 1
    ? [mmaSlab, '    workgroupBarrier();', '    if (more) {', storeRegs('0u'), '    }', '    workgroupBarrier();'].join('\n')
    : [mmaSlab, '    if (more) {', storeRegs('(1u - buf)'), '    }', '    workgroupBarrier();'].join('\n');
  const body = vec16Wgsl
    .replace('//@X_BINDING', X_SOURCES[xt].binding)
    .replace('//@X_CHUNK', X_SOURCES[xt].chunk)
    .replace('//@DECL_ACC', lines((i, j) => `  var acc${i}_${j} = acc_zero();`))
    .replace('//@LOAD_REGS_0', loadRegs('0u'))
    .replace('//@STORE_REGS_0', storeRegs('0u'))
    .replace('//@LOAD_REGS_NEXT', loadRegs('kn'))
    .replace('//@SLAB', slab)
    .replace('//@EPILOGUE_SCRATCH', lines((i, j) => `  ${blockedStoreAcc(em, 'sC', 'sg', `acc${i}_${j}`, 0, 4)}\n  workgroupBarrier();\n  write_tile(sg, lane, row0 + sr + ${16 * i}u, col0 + sc + ${16 * j}u);\n  workgroupBarrier();`));
  const consts = [
    `const BM: u32 = ${BM}u;`, `const BN: u32 = ${BN}u;`, `const BK: u32 = ${BK}u;`, `const NT: u32 = ${NT}u;`,
    `const NSG: u32 = ${NSG}u;`, `const SGR: u32 = ${SGR}u;`, `const SGC: u32 = ${SGC}u;`, `const TM: u32 = ${TM}u;`, `const TN: u32 = ${TN}u;`,
    `const KV: u32 = ${KV}u;`, `const ASV: u32 = ${ASV}u;`, `const BSV: u32 = ${BSV}u;`, `const NBUF: u32 = ${s.nbuf}u;`,
  ];
  const prims = matrixPrimitives({
    emulate: mode === 'emulated',
    subgroups: NSG,
    arrays: [
      { name: 'sA', elem: 'f16x8', uses: ['left'], blocked: true },
      { name: 'sB', elem: 'f16x8', uses: ['right_t'], blocked: true },
      { name: 'sC', elem: 'f32x4', uses: ['acc'], blocked: true },
    ],
  });
  return [prims, ...consts, body].join('\n');
}

/** The dispatch of checked operands (matmul.ts checks shapes and calls vec16Unfit first). */
export function matmulVec16Dispatch(mode: TensorCoreMode, s: Vec16Shape, x: Tensor, w: Tensor, bias: Tensor | undefined, y: Tensor, xRow0: number): Dispatch {
  const [M, N] = y.shape;
  const K = w.shape[1];
  const { BM, BN } = vec16Block(s);
  const xt: MatmulXType = x.dtype === 'f16' ? 'f16' : 'f32';
  return {
    kernel: { label: `matmul f16 vec16 ${BM}x${BN}x${s.BK} ${s.nbuf}buf${xt === 'f16' ? ' x f16' : ''}`, code: matmulVec16Source(s, mode, xt) },
    // Without a bias, x stands in for it (read-only, never read as bias).
    buffers: [x.buffer, w.buffer, (bias ?? x).buffer, y.buffer],
    params: [u32(M), u32(N), u32(K), u32(bias ? 1 : 0), u32(xRow0)],
    workgroups: [ceilDiv(N, BN), ceilDiv(M, BM)],
  };
}
