// Host wrappers of the elementwise passes.
import type { GpuContext } from '../device';
import { grid2d, u32, type Dispatch } from '../kernel';
import { numel, type Tensor } from '../tensor';
import elementwiseWgsl from './elementwise.wgsl';

function launch(ctx: GpuContext, entryPoint: string, n: number): Pick<Dispatch, 'kernel' | 'workgroups'> {
  return { kernel: { label: entryPoint, code: elementwiseWgsl, entryPoint }, workgroups: grid2d(ctx, Math.ceil(n / 256)) };
}

function sameSize(what: string, ...ts: Tensor[]): number {
  const n = numel(ts[0].shape);
  for (const t of ts) if (numel(t.shape) !== n) throw new Error(`${what}: ${t.label} has ${numel(t.shape)} elements, expected ${n}`);
  return n;
}

/** y (S, width) = table[ids[s]] (+ positions (S, width), GPT-2's learned positions). */
export function embedDispatch(ctx: GpuContext, table: Tensor, ids: GPUBuffer, S: number, y: Tensor, positions?: Tensor): Dispatch {
  const width = table.shape[1];
  const n = S * width;
  return { ...launch(ctx, 'embed', n), buffers: [table.buffer, positions?.buffer ?? table.buffer, ids, y.buffer], params: [u32(n), u32(width), u32(positions ? 1 : 0), u32(0)] };
}

export function addDispatch(ctx: GpuContext, a: Tensor, b: Tensor, y: Tensor): Dispatch {
  const n = sameSize('residual add', a, b, y);
  return { ...launch(ctx, 'add', n), buffers: [a.buffer, b.buffer, null, y.buffer], params: [u32(n), u32(0), u32(0), u32(0)] };
}

/** y = act(a) (* b for SwiGLU). */
export function activationDispatch(ctx: GpuContext, act: 'silu_mul' | 'gelu_tanh' | 'gelu_erf', a: Tensor, b: Tensor | undefined, y: Tensor): Dispatch {
  const n = b ? sameSize(act, a, b, y) : sameSize(act, a, y);
  if (act === 'silu_mul' && !b) throw new Error('silu_mul needs the up projection');
  return { ...launch(ctx, act, n), buffers: [a.buffer, act === 'silu_mul' ? b!.buffer : null, null, y.buffer], params: [u32(n), u32(0), u32(0), u32(0)] };
}
