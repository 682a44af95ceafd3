// Host wrapper of the one-row matmul (gemv.wgsl), for a decode step's Linear layers and the LM
// head of one position; f32 weights, or f16 weights (the f16 model path) where shader-f16 is on.
import type { GpuContext } from '../device';
import { ceilDiv, grid2d, u32, type Dispatch } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import gemvWgsl from './gemv.wgsl';

const ROWS_PER_WORKGROUP = 8; // ROWS in gemv.wgsl

export interface GemvArgs {
  /** (rows > xRow0, K) f32 */
  x: Tensor;
  /** (N, K) f32 or f16 */
  w: Tensor;
  /** (N) f32, optional */
  bias?: Tensor;
  /** (1, N) f32 */
  y: Tensor;
  /** the row of x to use (default 0) */
  xRow0?: number;
}

const SOURCE = { f32: `alias WT = f32;\n${gemvWgsl}`, f16: `enable f16;\nalias WT = f16;\n${gemvWgsl}` };

export function gemvDispatch(ctx: GpuContext, a: GemvArgs): Dispatch {
  const { x, w, bias, y } = a;
  const row0 = a.xRow0 ?? 0;
  const [N, K] = w.shape;
  if (w.shape.length !== 2 || y.shape.length !== 2 || y.shape[0] !== 1 || y.shape[1] !== N) throw new RangeError(`gemv: y ${y.label} ${shapeString(y.shape)} must be (1, N) for W ${w.label} ${shapeString(w.shape)}.`);
  if (x.shape.length !== 2 || x.shape[1] !== K) throw new RangeError(`gemv: x ${x.label} ${shapeString(x.shape)} has ${x.shape[1]} columns but W ${w.label} ${shapeString(w.shape)} expects K = ${K}.`);
  if (!Number.isInteger(row0) || row0 < 0 || row0 >= x.shape[0]) throw new RangeError(`gemv: row ${row0} of x ${x.label} ${shapeString(x.shape)} does not exist.`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N)) throw new RangeError(`gemv: bias ${bias.label} ${shapeString(bias.shape)} must be (${N}).`);
  const dtype = w.dtype ?? 'f32';
  if (dtype === 'f16' && !ctx.hasF16) throw new Error(`gemv: W ${w.label} is f16 but this device has no shader-f16.`);
  return {
    kernel: { label: `gemv ${dtype}`, code: SOURCE[dtype] },
    // Without a bias x is bound in its place: the kernel never reads it (hasBias = 0).
    buffers: [x.buffer, w.buffer, (bias ?? x).buffer, y.buffer],
    params: [u32(N), u32(K), u32(bias ? 1 : 0), u32(row0)],
    workgroups: grid2d(ctx, ceilDiv(N, ROWS_PER_WORKGROUP)),
  };
}
