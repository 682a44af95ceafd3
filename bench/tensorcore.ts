// The tensor-core matmul's TFLOP/s for one or several tile shapes (the device benchmark picks the
// default tile from these), with a float64 spot check of the result on the f16 inputs.
import { checked, type GpuContext } from '../gpu/device';
import { run } from '../gpu/kernel';
import { createTensor, destroyAll, readTensor, uploadTensorF16 } from '../gpu/tensor';
import { GpuTimer, median } from '../gpu/timing';
import { timeRepeats } from '../gpu/kernel';
import { fillRandomDispatch } from '../gpu/forward/fill';
import { f16ToNumber } from '../gpu/forward/widen';
import { f16Bits } from '../gpu/tensorcore/half';
import { matmulF16Dispatch, tileBlock, type MatmulTile } from '../gpu/tensorcore/matmul';
import type { TensorCoreMode } from '../gpu/tensorcore/support';
import { mulberry32 } from '../src/util/random';

export interface MatmulF16BenchResult {
  M: number;
  N: number;
  K: number;
  tile: MatmulTile;
  block: string;
  medianMs: number;
  tflops: number;
  /** Largest |y - ref| / sum |x w| over 64 spot-checked entries, ref in float64 on the f16 values. */
  worstError: number;
}

export async function benchMatmulF16(ctx: GpuContext, tc: TensorCoreMode, M: number, N: number, K: number, tile: MatmulTile, repeats: number): Promise<MatmulF16BenchResult> {
  if (!ctx.hasTimestamps) throw new Error('benchMatmulF16 needs timestamp queries.');
  const r = mulberry32(7);
  const wBits = new Uint16Array(N * K);
  for (let i = 0; i < wBits.length; i++) wBits[i] = f16Bits((r() - 0.5) * 2 / Math.sqrt(K));
  const x = createTensor(ctx, 'bench x', [M, K]); // (M, K) f32
  const w = uploadTensorF16(ctx, 'bench w f16', [N, K], wBits); // (N, K) f16
  const y = createTensor(ctx, 'bench y', [M, N], true); // (M, N) f32
  const timer = new GpuTimer(ctx);
  try {
    const d = matmulF16Dispatch(ctx, tc, { x, w, y }, tile);
    await checked(ctx.device, 'benchMatmulF16', () => run(ctx, [fillRandomDispatch(ctx, x, 11, 1), d]));
    const ms = await timeRepeats(ctx, d, repeats, timer);
    const xs = await readTensor(ctx, x), ys = await readTensor(ctx, y);
    const worstError = spotCheckError(xs, wBits, ys, M, N, K, r);
    const medianMs = median(ms);
    const { BM, BN } = tileBlock(tile);
    return { M, N, K, tile, block: `${BM}x${BN}x${tile.BK}`, medianMs, tflops: (2 * M * N * K) / (medianMs * 1e-3) / 1e12, worstError };
  } finally {
    timer.destroy();
    destroyAll(x, w, y);
  }
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

/** Tile shapes the device sweep tries (4 or 8 subgroups). */
export const MATMUL_SWEEP: MatmulTile[] = [
  { SGR: 2, SGC: 2, TM: 2, TN: 2, BK: 32, pad: 8 },
  { SGR: 2, SGC: 2, TM: 4, TN: 2, BK: 32, pad: 8 },
  { SGR: 2, SGC: 2, TM: 2, TN: 4, BK: 32, pad: 8 },
  { SGR: 2, SGC: 2, TM: 4, TN: 4, BK: 32, pad: 8 },
  { SGR: 2, SGC: 2, TM: 4, TN: 2, BK: 64, pad: 8 },
  { SGR: 4, SGC: 2, TM: 2, TN: 4, BK: 32, pad: 8 },
  { SGR: 2, SGC: 4, TM: 4, TN: 2, BK: 32, pad: 8 },
  { SGR: 4, SGC: 2, TM: 2, TN: 4, BK: 16, pad: 8 },
  { SGR: 4, SGC: 2, TM: 2, TN: 2, BK: 32, pad: 8 },
  { SGR: 4, SGC: 4, TM: 2, TN: 2, BK: 32, pad: 8 },
  { SGR: 4, SGC: 2, TM: 2, TN: 4, BK: 32, pad: 16 },
];
