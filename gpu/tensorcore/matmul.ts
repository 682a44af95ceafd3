// The f16 tensor-core matmul y = x W^T (+ b): f32 or f16 x, f16 W in Linear layout (N, K), f32 y, f32
// accumulation. matmulF16Dispatch is the one entry point; it picks one of two kernels:
//  - vec16 (matmul-vec16.ts), 16-byte loads: the default wherever K % 8 == 0, at 128 x 256 x 32
//    (8 subgroups of 32 x 128, one workgroup buffer) for K, N >= 1024 where it fits, else
//    128 x 128 x 32 (two buffers). H200, 4096^3, median of 20 (docs/benchmarks.md):
//    1.160 ms = 118.4 TFLOP/s, and 1.847 ms = 74.4 TFLOP/s for the smaller block (its matrix
//    loads blocked so that the bounds checks are proved at compile time: 85.8 and 63.4 before);
//  - staged (matmul.wgsl, here), the same block with 4-half loads and one buffer: the fallback
//    for any other K (K % 4 != 0 reads scalars) or a smaller adapter: 2.490 ms = 55.2 TFLOP/s.
// Tests force other shapes of either kernel to cover block edges.
import type { GpuContext } from '../device';
import { ceilDiv, u32, type Dispatch } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import { matrixPrimitives } from './primitives';
import type { TensorCoreMode } from './support';
import { matmulVec16Dispatch, vec16Unfit, type MatmulXType, type Vec16Shape } from './matmul-vec16';
import matmulWgsl from './matmul.wgsl';

/** NSG = SGR x SGC subgroups; each owns TM x TN 16 x 16 accumulators; K advances BK (a multiple of 16). */
export interface MatmulTile {
  SGR: number;
  SGC: number;
  TM: number;
  TN: number;
  BK: number;
  /** Extra f16 per workgroup-memory row (bank spreading). */
  pad: number;
}

/** The staged kernel's block where it is the fallback: 8 subgroups, 128 x 128 x 32 (best of its own H200 sweep). */
export const STAGED_MATMUL_TILE: MatmulTile = { SGR: 4, SGC: 2, TM: 2, TN: 4, BK: 32, pad: 8 };

/** The default kernel's shape: 8 subgroups of 32 x 128 (16 accumulators each), 128 x 256 x 32,
 * one buffer (two do not fit 48 KiB at this block). H200, 4096^3: 84.4-85.8 TFLOP/s in eight
 * sweeps over four calls, against 68.2-69.6 for 256 x 128 x 32 (64 x 64 a subgroup, the default
 * before 2026-12-02) beside it; 118.4 once its loads were blocked (docs/benchmarks.md, PART=12). */
export const VEC16_MATMUL_LARGE: Vec16Shape = { SGR: 4, SGC: 2, TM: 2, TN: 8, BK: 32, nbuf: 1 };

/** The default where the large block does not fit (an adapter with less workgroup memory, the
 * emulation): 8 subgroups, 128 x 128 x 32, double-buffered (the default until 2026-12-02). */
export const VEC16_MATMUL_SHAPE: Vec16Shape = { SGR: 4, SGC: 2, TM: 2, TN: 4, BK: 32, nbuf: 2 };

/** Which kernel, and its block shape. */
export type MatmulKernel = { kind: 'vec16'; shape: Vec16Shape } | { kind: 'staged'; tile: MatmulTile };

/** The large block pays where both the reduction and the outputs are long: its epilogue writes
 * 16 tiles a subgroup (two barriers each), which a short K does not amortise, and a narrow N
 * leaves few workgroups. With it for every matmul the default model (K 256 / 704, N 128 .. 704)
 * read a 10% slower dense TTFT at 32K on the H200 (docs/benchmarks.md, PART=6). */
export const LARGE_MATMUL_MIN = 1024;

/** vec16 wherever it applies to reduction length K on this device (its large block where it
 * fits and K, N >= LARGE_MATMUL_MIN), else the staged kernel. */
export function defaultMatmulKernel(ctx: GpuContext, mode: TensorCoreMode, K: number, N = 0): MatmulKernel {
  const shapes = K >= LARGE_MATMUL_MIN && N >= LARGE_MATMUL_MIN ? [VEC16_MATMUL_LARGE, VEC16_MATMUL_SHAPE] : [VEC16_MATMUL_SHAPE];
  for (const shape of shapes) if (vec16Unfit(ctx, mode, shape, K) === null) return { kind: 'vec16', shape };
  return { kind: 'staged', tile: STAGED_MATMUL_TILE };
}

/** "vec16 128x256x32 1buf", with the subgroup count where it is not 8 ("... 4sg"): two blocks of
 * one size on different subgroup counts are different kernels. */
export function matmulKernelName(k: MatmulKernel): string {
  const s = k.kind === 'vec16' ? k.shape : k.tile;
  const block = `${s.SGR * s.TM * 16}x${s.SGC * s.TN * 16}x${s.BK}`;
  const sg = s.SGR * s.SGC === 8 ? '' : ` ${s.SGR * s.SGC}sg`;
  return k.kind === 'vec16' ? `vec16 ${block} ${k.shape.nbuf}buf${sg}` : `staged ${block}${sg}`;
}

export function tileBlock(t: MatmulTile): { BM: number; BN: number } {
  return { BM: t.SGR * t.TM * 16, BN: t.SGC * t.TN * 16 };
}

export function checkMatmulTile(device: GPUDevice, t: MatmulTile): void {
  for (const k of ['SGR', 'SGC', 'TM', 'TN'] as const) if (!Number.isInteger(t[k]) || t[k] < 1 || t[k] > 8) throw new RangeError(`tensor-core matmul tile: ${k} must be an integer in 1..8, got ${t[k]}.`);
  if (!(t.BK % 16 === 0 && t.BK >= 16 && t.BK <= 128)) throw new RangeError(`tensor-core matmul tile: BK must be 16, 32, .. 128, got ${t.BK}.`);
  if (!(t.pad >= 0 && t.pad % 4 === 0)) throw new RangeError(`tensor-core matmul tile: pad must be a multiple of 4, got ${t.pad}.`);
  const { BM, BN } = tileBlock(t);
  const threads = t.SGR * t.SGC * 32;
  const bytes = 2 * (BM + BN) * (t.BK + t.pad) + 4 * t.SGR * t.SGC * 256 + 2 * 2 * t.SGR * t.SGC * 256;
  if (threads > device.limits.maxComputeInvocationsPerWorkgroup) throw new RangeError(`tensor-core matmul tile: ${threads} threads exceed this adapter's ${device.limits.maxComputeInvocationsPerWorkgroup}.`);
  if (bytes > device.limits.maxComputeWorkgroupStorageSize) throw new RangeError(`tensor-core matmul tile ${BM} x ${BN} x ${t.BK} needs ${bytes} bytes of workgroup memory; this adapter has ${device.limits.maxComputeWorkgroupStorageSize}.`);
}

/** WGSL of one tile shape, vector width, mode and x type (f16 x is read as it is). */
export function matmulF16Source(t: MatmulTile, vec: boolean, mode: TensorCoreMode, xt: MatmulXType = 'f32'): string {
  const { BM, BN } = tileBlock(t);
  const NSG = t.SGR * t.SGC;
  const AS = t.BK + t.pad, BS = t.BK + t.pad;
  const accs: [number, number][] = [];
  for (let i = 0; i < t.TM; i++) for (let j = 0; j < t.TN; j++) accs.push([i, j]);
  const lines = (f: (i: number, j: number) => string) => accs.map(([i, j]) => f(i, j)).join('\n');
  const step = [
    ...Array.from({ length: t.TM }, (_, i) => `      let a${i} = load_left_sA((sr + ${16 * i}u) * AS + kk, AS);`),
    ...Array.from({ length: t.TN }, (_, j) => `      let b${j} = load_right_t_sB((sc + ${16 * j}u) * BS + kk, BS);`),
    lines((i, j) => `      acc${i}_${j} = mma(a${i}, b${j}, acc${i}_${j});`),
  ].join('\n');
  const bindings = vec
    ? `@group(0) @binding(0) var<storage, read> x: array<vec4<${xt}>>;      // (rows, K / 4) ${xt}\n@group(0) @binding(1) var<storage, read> w: array<vec4<f16>>;      // (N, K / 4) f16`
    : `@group(0) @binding(0) var<storage, read> x: array<${xt}>;            // (rows, K) ${xt}\n@group(0) @binding(1) var<storage, read> w: array<f16>;            // (N, K) f16`;
  const chunks = vec
    ? `fn x_chunk(r: u32, k: u32) -> vec4<f16> {
  if (r >= p.M || k >= p.K) { return vec4<f16>(0.0); }
  return vec4<f16>(x[((p.xRow0 + r) * p.K + k) / 4u]);
}
fn w_chunk(n: u32, k: u32) -> vec4<f16> {
  if (n >= p.N || k >= p.K) { return vec4<f16>(0.0); }
  return w[(n * p.K + k) / 4u];
}`
    : `fn x_chunk(r: u32, k: u32) -> vec4<f16> {
  var v = vec4<f16>(0.0);
  if (r >= p.M) { return v; }
  for (var e = 0u; e < 4u; e++) { if (k + e < p.K) { v[e] = f16(x[(p.xRow0 + r) * p.K + k + e]); } }
  return v;
}
fn w_chunk(n: u32, k: u32) -> vec4<f16> {
  var v = vec4<f16>(0.0);
  if (n >= p.N) { return v; }
  for (var e = 0u; e < 4u; e++) { if (k + e < p.K) { v[e] = w[n * p.K + k + e]; } }
  return v;
}`;
  const body = matmulWgsl
    .replace('//@BINDINGS_XW', bindings)
    .replace('//@CHUNKS', chunks)
    .replace('//@DECL_ACC', lines((i, j) => `  var acc${i}_${j} = acc_zero();`))
    .replace('//@MMA_STEP', step)
    .replace('//@EPILOGUE_SCRATCH', lines((i, j) => `    store_acc_sC(sg * 256u, acc${i}_${j}, 16u);\n    workgroupBarrier();\n    write_tile(sg, lane, row0 + sr + ${16 * i}u, col0 + sc + ${16 * j}u);\n    workgroupBarrier();`));
  const consts = [
    `const BM: u32 = ${BM}u;`, `const BN: u32 = ${BN}u;`, `const BK: u32 = ${t.BK}u;`, `const NT: u32 = ${NSG * 32}u;`,
    `const NSG: u32 = ${NSG}u;`, `const SGC: u32 = ${t.SGC}u;`, `const TM: u32 = ${t.TM}u;`, `const TN: u32 = ${t.TN}u;`,
    `const AS: u32 = ${AS}u;`, `const BS: u32 = ${BS}u;`, `const VEC: bool = ${vec};`,
  ];
  const prims = matrixPrimitives({
    emulate: mode === 'emulated',
    subgroups: NSG,
    arrays: [
      { name: 'sA', elem: 'f16', uses: ['left'] },
      { name: 'sB', elem: 'f16', uses: ['right_t'] },
      { name: 'sC', elem: 'f32', uses: ['acc'] },
    ],
  });
  return [prims, ...consts, body].join('\n');
}

export interface MatmulF16Args {
  /** (rows >= xRow0 + M, K) f32, or f16 (read as it is: half the bytes) */
  x: Tensor;
  /** (N, K) f16 */
  w: Tensor;
  /** (N) f32, optional */
  bias?: Tensor;
  /** (M, N) f32 */
  y: Tensor;
  xRow0?: number;
}

/** y = x W^T (+ b) by `kernel` (default: defaultMatmulKernel); a RangeError for bad shapes or a kernel that does not fit. */
export function matmulF16Dispatch(ctx: GpuContext, mode: TensorCoreMode, a: MatmulF16Args, kernel?: MatmulKernel): Dispatch {
  const { x, w, bias, y } = a;
  const xRow0 = a.xRow0 ?? 0;
  if (x.shape.length !== 2 || w.shape.length !== 2 || y.shape.length !== 2) throw new RangeError(`f16 matmul: x ${shapeString(x.shape)}, W ${shapeString(w.shape)} and y ${shapeString(y.shape)} must all be 2-D.`);
  if (w.dtype !== 'f16') throw new RangeError(`f16 matmul: W ${w.label} must be an f16 tensor (upload it with uploadTensorF16).`);
  if ((y.dtype ?? 'f32') !== 'f32') throw new RangeError(`f16 matmul: y ${y.label} must be an f32 tensor.`);
  const [M, N] = y.shape;
  const K = w.shape[1];
  if (w.shape[0] !== N) throw new RangeError(`f16 matmul: W ${w.label} has ${w.shape[0]} rows (outputs) but y ${y.label} has ${N} columns.`);
  if (x.shape[1] !== K) throw new RangeError(`f16 matmul: x ${x.label} ${shapeString(x.shape)} has ${x.shape[1]} columns but W ${w.label} ${shapeString(w.shape)} expects K = ${K}.`);
  if (xRow0 + M > x.shape[0]) throw new RangeError(`f16 matmul: rows ${xRow0} .. ${xRow0 + M} of x ${x.label} ${shapeString(x.shape)} do not exist.`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N)) throw new RangeError(`f16 matmul: bias ${bias.label} ${shapeString(bias.shape)} must be (${N}).`);
  const k = kernel ?? defaultMatmulKernel(ctx, mode, K, N);
  if (k.kind === 'vec16') {
    const unfit = vec16Unfit(ctx, mode, k.shape, K);
    if (unfit) throw new RangeError(`f16 matmul ${matmulKernelName(k)}: ${unfit}.`);
    return matmulVec16Dispatch(mode, k.shape, x, w, bias, y, xRow0);
  }
  const tile = k.tile;
  checkMatmulTile(ctx.device, tile);
  const { BM, BN } = tileBlock(tile);
  return {
    kernel: { label: `matmul f16 ${matmulKernelName(k)}${x.dtype === 'f16' ? ' x f16' : ''}`, code: matmulF16Source(tile, K % 4 === 0, mode, x.dtype === 'f16' ? 'f16' : 'f32') },
    // Without a bias, y's own buffer cannot stand in (it is bound writable): x is read-only and never read as bias.
    buffers: [x.buffer, w.buffer, (bias ?? x).buffer, y.buffer],
    params: [u32(M), u32(N), u32(K), u32(bias ? 1 : 0), u32(xRow0)],
    workgroups: [ceilDiv(N, BN), ceilDiv(M, BM)],
  };
}
