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
export { assertFinite, maxAbsError, relError } from '../../src/util/errors';



