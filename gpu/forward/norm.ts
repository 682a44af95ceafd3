// Host wrapper of RMSNorm / LayerNorm over the last dimension of a row-major tensor.
import type { GpuContext } from '../device';
import { f32, grid2d, u32, type Dispatch } from '../kernel';
import { numel, shapeString, type Tensor } from '../tensor';
import normWgsl from './norm.wgsl';
import reduceWgsl from './reduce.wgsl';

/** The kernel's WGSL with the shared workgroup reduction (reduce.wgsl). */
const normWgslFull = reduceWgsl + '\n' + normWgsl;

export type NormKind = 'rms' | 'layer';

export interface NormArgs {
  kind: NormKind;
  /** (..., n) f32: normalised over rows of length n = weight length */
  x: Tensor;
  /** (n) f32 */
  weight: Tensor;
  /** (n) f32, optional */
  bias?: Tensor;
  eps: number;
  /** same element count as x */
  y: Tensor;
}

export function normDispatch(ctx: GpuContext, a: NormArgs): Dispatch {
  const n = a.weight.shape[0];
  if (a.weight.shape.length !== 1) throw new RangeError(`${a.kind} norm: weight ${a.weight.label} ${shapeString(a.weight.shape)} must be 1-D.`);
  if (a.bias && (a.bias.shape.length !== 1 || a.bias.shape[0] !== n)) throw new RangeError(`${a.kind} norm: bias ${a.bias.label} ${shapeString(a.bias.shape)} must be (${n}).`);
  const total = numel(a.x.shape);
  if (total % n !== 0) throw new RangeError(`${a.kind} norm: x ${a.x.label} ${shapeString(a.x.shape)} is not a whole number of rows of ${n}.`);
  if (numel(a.y.shape) !== total) throw new RangeError(`${a.kind} norm: y ${a.y.label} ${shapeString(a.y.shape)} must hold as many values as x ${shapeString(a.x.shape)}.`);
  if (!(a.eps >= 0)) throw new RangeError(`${a.kind} norm: eps must be >= 0, got ${a.eps}.`);
  const rows = total / n;
  return {
    kernel: { label: `${a.kind} norm`, code: normWgslFull, entryPoint: a.kind },
    buffers: [a.x.buffer, a.weight.buffer, (a.bias ?? a.weight).buffer, a.y.buffer],
    params: [u32(rows), u32(n), f32(a.eps), u32(a.bias ? 1 : 0)],
    workgroups: grid2d(ctx, rows),
  };
}
