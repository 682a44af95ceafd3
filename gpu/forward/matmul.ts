// Host wrapper of the tiled matmul: y = x W^T (+ b) with W in Hugging Face Linear layout (out, in).
// GPT-2's Conv1D weights, stored (in, out), are transposed once on the host when the model is
// built (see transposeHost), so one kernel serves every family.
import type { GpuContext } from '../device';
import { ceilDiv, u32, type Dispatch } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import matmulWgsl from './matmul.wgsl';

export const MATMUL_TILE = 64;

export interface MatmulArgs {
  /** (rows >= xRow0 + M, K) f32 */
  x: Tensor;
  /** (N, K) f32 */
  w: Tensor;
  /** (N) f32, optional */
  bias?: Tensor;
  /** (M, N) f32 */
  y: Tensor;
  /** First row of x to use (default 0): lets the LM head run over row chunks of a long sequence. */
  xRow0?: number;
}

export function matmulDispatch(_ctx: GpuContext, a: MatmulArgs): Dispatch {
  const { x, w, bias, y } = a;
  const xRow0 = a.xRow0 ?? 0;
  if (x.shape.length !== 2 || w.shape.length !== 2 || y.shape.length !== 2) {
    throw new RangeError(`matmul: x ${shapeString(x.shape)}, W ${shapeString(w.shape)} and y ${shapeString(y.shape)} must all be 2-D.`);
  }
  const [M, N] = y.shape;
  const K = w.shape[1];
  if (w.shape[0] !== N) throw new RangeError(`matmul: W ${w.label} has ${w.shape[0]} rows (outputs) but y ${y.label} has ${N} columns.`);
  if (x.shape[1] !== K) throw new RangeError(`matmul: x ${x.label} ${shapeString(x.shape)} has ${x.shape[1]} columns but W ${w.label} ${shapeString(w.shape)} expects K = ${K}.`);
  if (xRow0 + M > x.shape[0]) throw new RangeError(`matmul: rows ${xRow0} .. ${xRow0 + M} of x ${x.label} ${shapeString(x.shape)} do not exist.`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N)) throw new RangeError(`matmul: bias ${bias.label} ${shapeString(bias.shape)} must be (${N}).`);
  return {
    kernel: { label: 'matmul', code: matmulWgsl },
    // Without a bias the weight is bound in its place: the kernel never reads it (hasBias = 0).
    buffers: [x.buffer, w.buffer, (bias ?? w).buffer, y.buffer],
    params: [u32(M), u32(N), u32(K), u32(bias ? 1 : 0), u32(xRow0)],
    workgroups: [ceilDiv(N, MATMUL_TILE), ceilDiv(M, MATMUL_TILE)],
  };
}

/** (rows, cols) row-major -> (cols, rows) row-major, on the host. */
export function transposeHost(a: Float32Array, rows: number, cols: number): Float32Array {
  if (a.length !== rows * cols) throw new RangeError(`transposeHost: ${a.length} values for (${rows}, ${cols}).`);
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c];
  }
  return out;
}
