// The speed sweeps of issue 12's candidate tensor-core kernels: every candidate of
// gpu/tensorcore/matmul-fast.ts (`bench --matmul N --sweep`) or gpu/tensorcore/flash-direct.ts
// (`bench --precision f16 --S .. --d .. --sweep`) timed beside today's default kernel (median of
// `repeats`, timestamp queries), with its result compared to the default's on the same inputs and
// a float64 spot check. A candidate that disagrees is marked FAIL, and its time is not a result.
import { checked, type GpuContext } from '../gpu/device';
import { run, timeRepeats, type Dispatch } from '../gpu/kernel';
import { createTensor, createTensorF16, destroyAll, readTensor, uploadTensor, uploadTensorF16 } from '../gpu/tensor';
import { GpuTimer, median } from '../gpu/timing';
import { fillRandomDispatch } from '../gpu/forward/fill';
import { f16Bits } from '../gpu/tensorcore/half';
import { toF16Dispatch } from '../gpu/tensorcore/convert';
import { matmulF16Dispatch, DEFAULT_MATMUL_TILE } from '../gpu/tensorcore/matmul';
import { candidateUnfit, MATMUL_CANDIDATES, matmulFastDispatch } from '../gpu/tensorcore/matmul-fast';
import { flashF16Dispatch } from '../gpu/tensorcore/attention';
import { createF16Inputs, destroyF16Inputs, FLASH_CANDIDATES, flashCandidateUnfit, flashDirectDispatch, toF16InputsDispatches } from '../gpu/tensorcore/flash-direct';
import { createDenseOutputs, destroyDenseOutputs } from '../gpu/attention/flash';
import type { TensorCoreMode } from '../gpu/tensorcore/support';
import { mulberry32 } from '../src/util/random';
import { kvHeadOf } from '../src/sampleattention/spec/reference';
import { spotCheckError } from './tensorcore';
import { benchInputs, rowError } from './attention';

export interface SweepRow {
  name: string;
  /** Kernel time, median ms (NaN when it did not run). */
  ms: number;
  tflops: number;
  /** Time of the f32 -> f16 conversions this candidate needs first (0 if none). */
  convertMs: number;
  /** TFLOP/s counting the conversions too. */
  tflopsWithConvert: number;
  /** Largest difference from the default kernel's result, relative (see each sweep). */
  vsDefault: number;
  /** float64 spot check (see each sweep). */
  check: number;
  status: 'default' | 'ok' | 'FAIL' | 'not run';
  note?: string;
}

// Agreement bounds. Matmul: both sum the same f16 products in f32 in different orders, so they
// differ by ~K 2^-24 of sum |x w| (4096: 2.4e-4 at worst, ~1e-6 typically) relative to max |y|;
// 1e-3 of max |y| is a wrong kernel, not rounding. Attention: both round P to f16 (2^-11), the
// lazy rescale can pick another reference max, so rows differ by ~1e-3 relative at worst; 1e-2
// is a wrong kernel. The float64 checks: matmul 5e-5 of sum |x w| (tests' bound), attention rows
// 1e-2 (the device's default measured 2.5e-3 .. 3.6e-3).
const MATMUL_VS_DEFAULT = 1e-3, MATMUL_CHECK = 5e-5, FLASH_VS_DEFAULT = 1e-2, FLASH_CHECK = 1e-2;

const tflopsOf = (flops: number, ms: number) => flops / (ms * 1e-3) / 1e12;

async function timeMs(ctx: GpuContext, ds: Dispatch[], repeats: number, timer: GpuTimer): Promise<number> {
  let total = 0;
  for (const d of ds) total += median(await timeRepeats(ctx, d, repeats, timer));
  return total;
}

function maxRelDiff(a: Float32Array, ref: Float32Array): number {
  let diff = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(a[i] - ref[i]);
    if (!Number.isFinite(a[i])) return Infinity;
    diff = Math.max(diff, e);
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return diff / Math.max(mag, 1e-30);
}

/** y (n, n) = x (n, n) W^T at n^3 (n a multiple of 8 for the candidates). */
export async function matmulSweep(ctx: GpuContext, tc: TensorCoreMode, n: number, repeats: number, log: (s: string) => void = () => {}, only?: string): Promise<SweepRow[]> {
  const M = n, N = n, K = n, flops = 2 * M * N * K;
  const r = mulberry32(7);
  const wBits = new Uint16Array(N * K);
  for (let i = 0; i < wBits.length; i++) wBits[i] = f16Bits((r() - 0.5) * 2 / Math.sqrt(K));
  const x = createTensor(ctx, 'sweep x', [M, K]); // (M, K) f32
  const xh = createTensorF16(ctx, 'sweep x f16', [M, K]); // (M, K) f16
  const w = uploadTensorF16(ctx, 'sweep w f16', [N, K], wBits); // (N, K) f16
  const yRef = createTensor(ctx, 'sweep y default', [M, N], true); // (M, N) f32
  const y = createTensor(ctx, 'sweep y', [M, N], true); // (M, N) f32
  const timer = new GpuTimer(ctx);
  const rows: SweepRow[] = [];
  try {
    const conv = toF16Dispatch(ctx, x, xh);
    const base = matmulF16Dispatch(ctx, tc, { x, w, y: yRef }, DEFAULT_MATMUL_TILE);
    await checked(ctx.device, 'matmul sweep default', () => run(ctx, [fillRandomDispatch(ctx, x, 11, 1), conv, base]));
    const xs = await readTensor(ctx, x), ref = await readTensor(ctx, yRef);
    const convertMs = await timeMs(ctx, [conv], repeats, timer);
    const baseMs = await timeMs(ctx, [base], repeats, timer);
    rows.push({ name: 'default (matmul.ts 128x128x32)', ms: baseMs, tflops: tflopsOf(flops, baseMs), convertMs: 0, tflopsWithConvert: tflopsOf(flops, baseMs), vsDefault: 0, check: spotCheckError(xs, wBits, ref, M, N, K, mulberry32(3)), status: 'default' });
    log(`default: ${baseMs.toFixed(3)} ms; x f32 -> f16 conversion ${convertMs.toFixed(3)} ms`);
    for (const c of MATMUL_CANDIDATES.filter((c) => !only || c.name.includes(only))) {
      const unfit = candidateUnfit(ctx, c, M, N, K);
      if (unfit) { rows.push({ name: c.name, ms: NaN, tflops: NaN, convertMs: NaN, tflopsWithConvert: NaN, vsDefault: NaN, check: NaN, status: 'not run', note: unfit }); continue; }
      try {
        const d = matmulFastDispatch(ctx, tc, c, { x: c.xF16 ? xh : x, w, y });
        await checked(ctx.device, c.name, () => run(ctx, [fillRandomDispatch(ctx, y, 5, 1), d]));
        const ys = await readTensor(ctx, y);
        const vsDefault = maxRelDiff(ys, ref);
        const check = spotCheckError(xs, wBits, ys, M, N, K, mulberry32(3));
        const ok = vsDefault <= MATMUL_VS_DEFAULT && check <= MATMUL_CHECK;
        const ms = ok ? await timeMs(ctx, [d], repeats, timer) : NaN;
        const cm = c.xF16 ? convertMs : 0;
        rows.push({ name: c.name, ms, tflops: tflopsOf(flops, ms), convertMs: cm, tflopsWithConvert: tflopsOf(flops, ms + cm), vsDefault, check, status: ok ? 'ok' : 'FAIL' });
      } catch (e) {
        rows.push({ name: c.name, ms: NaN, tflops: NaN, convertMs: NaN, tflopsWithConvert: NaN, vsDefault: NaN, check: NaN, status: 'FAIL', note: (e as Error).message.split('\n')[0].slice(0, 160) });
      }
      log(`${c.name}: ${rows[rows.length - 1].status}`);
    }
    return rows;
  } finally {
    timer.destroy();
    destroyAll(x, xh, w, yRef, y);
  }
}

export interface FlashSweepOptions {
  S: number;
  heads: number;
  kvHeads: number;
  d: number;
  repeats: number;
  pattern: 'random' | 'structured';
}

/** Dense causal attention, the default flashF16Dispatch against every FLASH_CANDIDATES shape. */
export async function flashSweep(ctx: GpuContext, tc: TensorCoreMode, o: FlashSweepOptions, log: (s: string) => void = () => {}, only?: string): Promise<SweepRow[]> {
  const { S, heads, kvHeads, d } = o;
  const shape = { heads, kvHeads, S, d };
  const flops = 2 * S * (S + 1) * d * heads; // QK^T and PV over the causal half, 2 flops a multiply-add
  const x = benchInputs({ ...shape, pattern: o.pattern });
  const q = uploadTensor(ctx, 'sweep q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'sweep k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const v = uploadTensor(ctx, 'sweep v', [kvHeads, S, d], x.v); // (kvHeads, S, d) f32
  const h16 = createF16Inputs(ctx, shape);
  const ref = createDenseOutputs(ctx, shape, 'sweep default');
  const got = createDenseOutputs(ctx, shape, 'sweep candidate');
  const timer = new GpuTimer(ctx);
  const rows: SweepRow[] = [];
  // float64 on 8 rows per head (first, last, 6 random), as bench/attention.ts's self-check.
  const r = mulberry32(12345);
  const checkRows = Array.from({ length: heads }, () => [0, S - 1, ...Array.from({ length: 6 }, () => Math.floor(r() * S))]);
  const check = (out: Float32Array) => {
    let worst = 0;
    for (let h = 0; h < heads; h++) for (const i of checkRows[h]) worst = Math.max(worst, rowError(x, h, kvHeadOf(h, heads, kvHeads), i, S, d, () => true, out));
    return worst;
  };
  try {
    const conv = toF16InputsDispatches(ctx, q, k, v, h16);
    const base = flashF16Dispatch(ctx, tc, shape, q, k, v, ref);
    await checked(ctx.device, 'flash sweep default', () => run(ctx, [...conv, base]));
    const refOut = await readTensor(ctx, ref.out), refLse = await readTensor(ctx, ref.lse);
    const convertMs = await timeMs(ctx, conv, o.repeats, timer);
    const baseMs = await timeMs(ctx, [base], o.repeats, timer);
    rows.push({ name: 'default (attention.ts)', ms: baseMs, tflops: tflopsOf(flops, baseMs), convertMs: 0, tflopsWithConvert: tflopsOf(flops, baseMs), vsDefault: 0, check: check(refOut), status: 'default' });
    log(`default: ${baseMs.toFixed(3)} ms; q, k, v f32 -> f16 conversions ${convertMs.toFixed(3)} ms`);
    for (const c of FLASH_CANDIDATES.filter((c) => !only || c.name.includes(only))) {
      const unfit = flashCandidateUnfit(ctx, c, d);
      if (unfit) { rows.push({ name: c.name, ms: NaN, tflops: NaN, convertMs: NaN, tflopsWithConvert: NaN, vsDefault: NaN, check: NaN, status: 'not run', note: unfit }); continue; }
      try {
        const dd = flashDirectDispatch(ctx, tc, c, shape, h16, got);
        await checked(ctx.device, c.name, () => run(ctx, [fillRandomDispatch(ctx, got.out, 5, 1), dd]));
        const out = await readTensor(ctx, got.out), lse = await readTensor(ctx, got.lse);
        // Per row: ||o - o_default|| / ||o_default||; lse: largest absolute difference.
        let vsDefault = 0;
        for (let row = 0; row < heads * S; row++) {
          let num = 0, den = 0;
          for (let cc = 0; cc < d; cc++) { const a = out[row * d + cc], b = refOut[row * d + cc]; num += (a - b) ** 2; den += b * b; }
          const e = Math.sqrt(num / Math.max(den, 1e-30));
          vsDefault = Math.max(vsDefault, Number.isFinite(e) ? e : Infinity, Number.isFinite(lse[row]) ? Math.abs(lse[row] - refLse[row]) : Infinity);
        }
        const chk = check(out);
        const ok = vsDefault <= FLASH_VS_DEFAULT && chk <= FLASH_CHECK;
        const ms = ok ? await timeMs(ctx, [dd], o.repeats, timer) : NaN;
        rows.push({ name: c.name, ms, tflops: tflopsOf(flops, ms), convertMs, tflopsWithConvert: tflopsOf(flops, ms + convertMs), vsDefault, check: chk, status: ok ? 'ok' : 'FAIL' });
      } catch (e) {
        rows.push({ name: c.name, ms: NaN, tflops: NaN, convertMs: NaN, tflopsWithConvert: NaN, vsDefault: NaN, check: NaN, status: 'FAIL', note: (e as Error).message.split('\n')[0].slice(0, 160) });
      }
      log(`${c.name}: ${rows[rows.length - 1].status}`);
    }
    return rows;
  } finally {
    timer.destroy();
    destroyAll(q, k, v);
    destroyF16Inputs(h16);
    destroyDenseOutputs(ref);
    destroyDenseOutputs(got);
  }
}

/** The table `bench --sweep` prints. */
export function sweepTable(rows: SweepRow[]): [string[], string[][]] {
  const f = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
  const e = (x: number) => (Number.isNaN(x) ? '-' : x.toExponential(1));
  return [
    ['candidate', 'ms', 'TFLOP/s', 'convert ms', 'TFLOP/s incl. convert', 'vs default', 'f64 check', 'status'],
    rows.map((r) => [r.name, f(r.ms, 3), f(r.tflops, 1), f(r.convertMs, 3), f(r.tflopsWithConvert, 1), e(r.vsDefault), e(r.check), r.note ? `${r.status}: ${r.note}` : r.status]),
  ];
}
