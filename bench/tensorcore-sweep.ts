// The speed sweep of the f16 tensor-core matmul kernels (`bench --matmul N --sweep`): today's
// default (matmul.ts's defaultMatmulKernel) beside the few shapes still worth timing, each timed
// (median of `repeats`, timestamp queries) with its result compared to the default's on the same
// inputs and a float64 spot check. A kernel that disagrees is marked FAIL, and its time is not a result.
import { checked, type GpuContext } from '../gpu/device';
import { run, timeRepeats, type Dispatch } from '../gpu/kernel';
import { createTensor, createTensorF16, destroyAll, readTensor, uploadTensorF16 } from '../gpu/tensor';
import { GpuTimer, median } from '../gpu/timing';
import { fillRandomDispatch } from '../gpu/forward/fill';
import { f16ToNumber } from '../gpu/forward/widen';
import { f16Bits } from '../gpu/tensorcore/half';
import { defaultMatmulKernel, matmulF16Dispatch, matmulKernelName, STAGED_MATMUL_TILE, VEC16_MATMUL_SHAPE, type MatmulKernel } from '../gpu/tensorcore/matmul';
import { toF16Dispatch } from '../gpu/tensorcore/convert';
import type { TensorCoreMode } from '../gpu/tensorcore/support';
import { mulberry32 } from '../src/util/random';

/** What the sweep times beside the default (128 x 256 x 32, one buffer, where it fits): the
 * staged fallback, the default of small K or N (128 x 128 x 32, two buffers) and with one, the
 * other blocks that fit 48 KiB only with one buffer: 256 x 128 (64 x 64 a subgroup, the default
 * before 2026-12-02) and 128 x 128 x 64, and 128 x 128 on 4 subgroups of 64 x 64. In the first
 * H200 calls 128 x 256, 128 x 128 x 64 and the 4-subgroup block moved by 2x between calls (37-85,
 * 25-66 and 20-42 TFLOP/s); 128 x 256 then read 84.4 in four sweeps running (docs/benchmarks.md). */
export const MATMUL_SWEEP: MatmulKernel[] = [
  { kind: 'staged', tile: STAGED_MATMUL_TILE },
  { kind: 'vec16', shape: VEC16_MATMUL_SHAPE },
  { kind: 'vec16', shape: { ...VEC16_MATMUL_SHAPE, nbuf: 1 } },
  { kind: 'vec16', shape: { SGR: 4, SGC: 2, TM: 4, TN: 4, BK: 32, nbuf: 1 } },
  { kind: 'vec16', shape: { ...VEC16_MATMUL_SHAPE, BK: 64, nbuf: 1 } },
  { kind: 'vec16', shape: { SGR: 2, SGC: 2, TM: 4, TN: 4, BK: 32, nbuf: 2 } },
];

/** Timed again with x given as f16 (one 16-byte load for 8 k, half the activation bytes): the
 * default, and the blocks whose slabs an f16 x may make cheap enough to pay. */
export const MATMUL_SWEEP_X16 = (dflt: MatmulKernel): MatmulKernel[] => [
  dflt,
  { kind: 'vec16', shape: VEC16_MATMUL_SHAPE },
  { kind: 'vec16', shape: { ...VEC16_MATMUL_SHAPE, BK: 64, nbuf: 1 } },
];

export interface SweepRow {
  name: string;
  /** Kernel time, median ms (NaN when it did not run). */
  ms: number;
  tflops: number;
  /** Largest |y - y_default| / max |y_default|. */
  vsDefault: number;
  /** float64 spot check: largest |y - ref| / sum |x w| over 64 entries. */
  check: number;
  status: 'default' | 'ok' | 'FAIL';
  note?: string;
}

// Agreement bounds: both kernels sum the same f16 products in f32 in different orders, so they
// differ by ~K 2^-24 of sum |x w| (4096: 2.4e-4 at worst, ~1e-6 typically) relative to max |y|;
// 1e-3 of max |y| is a wrong kernel, not rounding. The float64 check: 5e-5 of sum |x w| (the tests' bound).
const VS_DEFAULT = 1e-3, CHECK = 5e-5;

const tflopsOf = (flops: number, ms: number) => flops / (ms * 1e-3) / 1e12;

async function timeMs(ctx: GpuContext, d: Dispatch, repeats: number, timer: GpuTimer): Promise<number> {
  return median(await timeRepeats(ctx, d, repeats, timer));
}

function maxRelDiff(a: Float32Array, ref: Float32Array): number {
  let diff = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    diff = Math.max(diff, Math.abs(a[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return diff / Math.max(mag, 1e-30);
}

/** Largest |y - ref| / sum |x w| over 64 random entries of y (M, N), ref in float64 on the f16
 * roundings of x (M, K) f32 and W (N, K) f16 bits. */
export function spotCheckError(xs: Float32Array, wBits: Uint16Array, ys: Float32Array, M: number, N: number, K: number, r: () => number): number {
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(r() * M), j = Math.floor(r() * N);
    let ref = 0, mag = 0;
    for (let k = 0; k < K; k++) {
      const pr = f16ToNumber(f16Bits(xs[i * K + k])) * f16ToNumber(wBits[j * K + k]);
      ref += pr;
      mag += Math.abs(pr);
    }
    const e = Math.abs(ys[i * N + j] - ref) / mag;
    worst = Math.max(worst, Number.isFinite(e) ? e : Infinity);
  }
  return worst;
}

/** y (n, n) = x (n, n) W^T at n^3: the default kernel, then every MATMUL_SWEEP kernel (names containing `only`). */
export async function matmulSweep(ctx: GpuContext, tc: TensorCoreMode, n: number, repeats: number, log: (s: string) => void = () => {}, only?: string): Promise<SweepRow[]> {
  const M = n, N = n, K = n, flops = 2 * M * N * K;
  const r = mulberry32(7);
  const wBits = new Uint16Array(N * K);
  for (let i = 0; i < wBits.length; i++) wBits[i] = f16Bits((r() - 0.5) * 2 / Math.sqrt(K));
  const x = createTensor(ctx, 'sweep x', [M, K]); // (M, K) f32
  const w = uploadTensorF16(ctx, 'sweep w f16', [N, K], wBits); // (N, K) f16
  const yRef = createTensor(ctx, 'sweep y default', [M, N], true); // (M, N) f32
  const y = createTensor(ctx, 'sweep y', [M, N], true); // (M, N) f32
  const x16 = createTensorF16(ctx, 'sweep x f16', [M, K]); // (M, K) f16: x rounded once
  const timer = new GpuTimer(ctx);
  const rows: SweepRow[] = [];
  try {
    const dflt = defaultMatmulKernel(ctx, tc, K, N);
    const base = matmulF16Dispatch(ctx, tc, { x, w, y: yRef }, dflt);
    await checked(ctx.device, 'matmul sweep default', () => run(ctx, [fillRandomDispatch(ctx, x, 11, 1), base]));
    const xs = await readTensor(ctx, x), ref = await readTensor(ctx, yRef);
    const baseMs = await timeMs(ctx, base, repeats, timer);
    rows.push({ name: `default (${matmulKernelName(dflt)})`, ms: baseMs, tflops: tflopsOf(flops, baseMs), vsDefault: 0, check: spotCheckError(xs, wBits, ref, M, N, K, mulberry32(3)), status: 'default' });
    log(`default ${matmulKernelName(dflt)}: ${baseMs.toFixed(3)} ms`);
    await checked(ctx.device, 'matmul sweep x to f16', () => run(ctx, [toF16Dispatch(ctx, x, x16)]));
    const runs = [...MATMUL_SWEEP.map((k) => ({ k, half: false })), ...MATMUL_SWEEP_X16(dflt).map((k) => ({ k, half: true }))]
      .map((r) => ({ ...r, name: `${matmulKernelName(r.k)}${r.half ? ' x f16' : ''}` }));
    for (const { k, half, name } of runs.filter((r) => !only || r.name.includes(only))) {
      try {
        const d = matmulF16Dispatch(ctx, tc, { x: half ? x16 : x, w, y }, k);
        await checked(ctx.device, name, () => run(ctx, [fillRandomDispatch(ctx, y, 5, 1), d]));
        const ys = await readTensor(ctx, y);
        const vsDefault = maxRelDiff(ys, ref);
        const check = spotCheckError(xs, wBits, ys, M, N, K, mulberry32(3));
        const ok = vsDefault <= VS_DEFAULT && check <= CHECK;
        const ms = ok ? await timeMs(ctx, d, repeats, timer) : NaN;
        rows.push({ name, ms, tflops: tflopsOf(flops, ms), vsDefault, check, status: ok ? 'ok' : 'FAIL' });
      } catch (e) {
        rows.push({ name, ms: NaN, tflops: NaN, vsDefault: NaN, check: NaN, status: 'FAIL', note: (e as Error).message.split('\n')[0].slice(0, 160) });
      }
      log(`${name}: ${rows[rows.length - 1].status}`);
    }
    return rows;
  } finally {
    timer.destroy();
    destroyAll(x, x16, w, yRef, y);
  }
}

/** The table `bench --matmul N --sweep` prints. */
export function sweepTable(rows: SweepRow[]): [string[], string[][]] {
  const f = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
  const e = (x: number) => (Number.isNaN(x) ? '-' : x.toExponential(1));
  return [
    ['kernel', 'ms', 'TFLOP/s', 'vs default', 'f64 check', 'status'],
    rows.map((r) => [r.name, f(r.ms, 3), f(r.tflops, 1), e(r.vsDefault), e(r.check), r.note ? `${r.status}: ${r.note}` : r.status]),
  ];
}
