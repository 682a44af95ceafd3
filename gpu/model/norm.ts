// Host wrapper of RMSNorm / LayerNorm over the last dimension.
import type { GpuContext } from '../device';
import { f32, grid2d, u32, type Dispatch } from '../kernel';
import type { Tensor } from '../tensor';
import normWgsl from './norm.wgsl';

export interface NormWeights {
  kind: 'rms' | 'layer';
  /** (n) f32 */
  weight: Tensor;
  /** (n) f32, LayerNorm only */
  bias?: Tensor;
  eps: number;
}

/** Normalises each of `rows` rows of length n = weight.shape[0]. */
export function normDispatch(ctx: GpuContext, norm: NormWeights, x: Tensor, y: Tensor, rows: number): Dispatch {
  const n = norm.weight.shape[0];
  if (x.shape[x.shape.length - 1] !== n && x.shape.reduce((a, b) => a * b, 1) !== rows * n) throw new Error(`norm ${norm.weight.label}: input ${x.label} rows are not of length ${n}`);
  if (norm.kind === 'layer' && !norm.bias) throw new Error(`norm ${norm.weight.label}: LayerNorm needs a bias`);
  return {
    kernel: { label: `norm ${norm.weight.label}`, code: normWgsl },
    buffers: [x.buffer, norm.weight.buffer, (norm.bias ?? norm.weight).buffer, y.buffer],
    params: [u32(rows), u32(n), f32(norm.eps), u32(norm.kind === 'layer' ? 1 : 0)],
    workgroups: grid2d(ctx, rows),
  };
}
