// Host wrapper of the Linear matmul: y = x W^T + b.
import type { GpuContext } from '../device';
import { ceilDiv, u32, type Dispatch } from '../kernel';
import type { Tensor } from '../tensor';
import matmulWgsl from './matmul.wgsl';

export const MATMUL_TILE = 64;

/** x: (M, K), w: (N, K), bias: (N) or absent, y: (M, N). */
export function matmulDispatch(ctx: GpuContext, x: Tensor, w: Tensor, bias: Tensor | undefined, y: Tensor): Dispatch {
  const [M, K] = x.shape.length === 2 ? x.shape : [x.shape.slice(0, -1).reduce((a, b) => a * b, 1), x.shape[x.shape.length - 1]];
  const [N, Kw] = w.shape;
  if (K !== Kw) throw new Error(`matmul ${w.label}: x ${x.label} has K = ${K} but the weight is (${N}, ${Kw})`);
  if (bias && bias.shape[0] !== N) throw new Error(`matmul ${w.label}: bias has ${bias.shape[0]} values for N = ${N}`);
  if (y.shape.reduce((a, b) => a * b, 1) !== M * N) throw new Error(`matmul ${w.label}: output ${y.label} must hold (${M}, ${N})`);
  void ctx;
  return {
    kernel: { label: `matmul ${w.label}`, code: matmulWgsl },
    // Without a bias the weight is bound in its place: the kernel never reads it (hasBias = 0).
    buffers: [x.buffer, w.buffer, (bias ?? w).buffer, y.buffer],
    params: [u32(M), u32(N), u32(K), u32(bias ? 1 : 0)],
    workgroups: [ceilDiv(N, MATMUL_TILE), ceilDiv(M, MATMUL_TILE)],
  };
}
