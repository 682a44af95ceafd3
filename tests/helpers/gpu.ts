// Shared test helpers: the real Node WebGPU device, seeded random inputs and error measures.
import { mulberry32, randn } from '../../src/util/random';
import { nodeGpu } from '../../gpu/node-gpu';
import type { GpuContext } from '../../gpu/device';

export const gpu = (): Promise<GpuContext> => nodeGpu();

/** Seeded PRNG (mulberry32): each test states its seed so a failure can be replayed, and the seed
 * comes from the clock unless SEED is set, so inputs are fresh on every run. */
export const rng = mulberry32;

export function freshSeed(): number {
  const env = process.env.SEED;
  return env ? Number(env) : (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
}

export { randn };

export function assertFinite(xs: ArrayLike<number>, what: string): void {
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) throw new Error(`${what}: element ${i} is ${xs[i]}`);
  }
}

/** ||a - b||_F / ||b||_F, computed in float64; NaN anywhere gives Infinity so it never passes. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (!Number.isFinite(d)) return Infinity;
    num += d * d;
    den += b[i] * b[i];
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!Number.isFinite(d)) return Infinity;
    if (d > m) m = d;
  }
  return m;
}
