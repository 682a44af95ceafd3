// Host wrappers of the element-wise kernels (residual add, SwiGLU, GELUs), all in place on `a`.
import type { GpuContext } from '../device';
import { ceilDiv, grid2d, u32, type Dispatch } from '../kernel';
import { numel, shapeString, type Tensor } from '../tensor';
import { Usage } from '../flags';
import elementwiseWgsl from './elementwise.wgsl';

export type ElementwiseOp = 'add' | 'silu_mul' | 'gelu_new' | 'gelu_erf';

function dispatch(ctx: GpuContext, op: ElementwiseOp, a: Tensor, b?: Tensor): Dispatch {
  const n = numel(a.shape);
  if (b && numel(b.shape) !== n) throw new RangeError(`${op}: ${b.label} ${shapeString(b.shape)} and ${a.label} ${shapeString(a.shape)} differ in size.`);
  return {
    kernel: { label: op, code: elementwiseWgsl, entryPoint: op },
    // The GELUs ignore b, yet the shared layout wants a buffer there; `a` cannot stand in (it is
    // bound writable), so a caller-free 4-byte dummy is kept per device.
    buffers: [a.buffer, (b ?? dummyFor(ctx)).buffer],
    params: [u32(n)],
    workgroups: grid2d(ctx, ceilDiv(n, 256)),
  };
}

const dummies = new WeakMap<GPUDevice, Tensor>();
function dummyFor(ctx: GpuContext): Tensor {
  let t = dummies.get(ctx.device);
  if (!t) {
    const buffer = ctx.device.createBuffer({ label: 'elementwise dummy', size: 4, usage: Usage.STORAGE });
    t = { buffer, shape: [1], label: 'elementwise dummy' };
    dummies.set(ctx.device, t);
  }
  return t;
}

/** a += b (residual add). */
export const addDispatch = (ctx: GpuContext, a: Tensor, b: Tensor) => dispatch(ctx, 'add', a, b);
/** gate = silu(gate) * up. */
export const siluMulDispatch = (ctx: GpuContext, gate: Tensor, up: Tensor) => dispatch(ctx, 'silu_mul', gate, up);
/** x = gelu(x), tanh form ('gelu_new') or exact erf form ('gelu'). */
export const geluDispatch = (ctx: GpuContext, x: Tensor, form: 'gelu_new' | 'gelu') => dispatch(ctx, form === 'gelu' ? 'gelu_erf' : 'gelu_new', x);
