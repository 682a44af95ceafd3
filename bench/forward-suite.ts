// Forward-pass benchmarks (prefill tokens/s, matmul TFLOP/s): wired once gpu/forward lands.
import type { GpuContext } from '../gpu/device';

export async function benchForwardSuite(_ctx: GpuContext, _repeats: number, _log: (line: string) => void): Promise<unknown[]> {
  throw new Error('the forward-pass benchmark is not built yet (bench/forward.ts)');
}
