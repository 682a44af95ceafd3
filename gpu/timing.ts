// Kernel timing from timestamp queries: each timed compute pass writes a begin and an end stamp.
import type { GpuContext } from './device';
import { readBuffer } from './tensor';
import { Usage } from './flags';

export interface PassTime {
  label: string;
  ms: number;
}

export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private labels: string[] = [];

  constructor(private readonly ctx: GpuContext, readonly capacity = 256) {
    if (!ctx.hasTimestamps) throw new Error(`This adapter has no timestamp-query feature; kernel timing is not available.`);
    this.querySet = ctx.device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
    this.resolveBuf = ctx.device.createBuffer({ label: 'timestamps', size: capacity * 16, usage: Usage.QUERY_RESOLVE | Usage.COPY_SRC });
  }

  /** timestampWrites for the next pass, or undefined when full (the pass then runs untimed). */
  passWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length >= this.capacity) return undefined;
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  resolve(encoder: GPUCommandEncoder): void {
    if (this.labels.length > 0) encoder.resolveQuerySet(this.querySet, 0, this.labels.length * 2, this.resolveBuf, 0);
  }

  /** Durations of the passes recorded since the last read, then resets. */
  async read(): Promise<PassTime[]> {
    const n = this.labels.length;
    if (n === 0) return [];
    const stamps = new BigUint64Array(await readBuffer(this.ctx, this.resolveBuf, n * 16));
    const out: PassTime[] = [];
    for (let i = 0; i < n; i++) {
      const dt = stamps[2 * i + 1] - stamps[2 * i];
      out.push({ label: this.labels[i], ms: Number(dt) / 1e6 });
    }
    this.labels = [];
    return out;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
