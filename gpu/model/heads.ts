// Host wrappers of split (to heads, + Qwen3 q/k norm, + RoPE) and merge, and the RoPE tables.
import type { GpuContext } from '../device';
import { f32, u32, type Dispatch } from '../kernel';
import { uploadTensor, type Tensor } from '../tensor';
import type { RopeConfig } from '../../src/model/config';
import headsWgsl from './heads.wgsl';

export const MAX_HEAD_DIM = 256;

/** Inverse frequencies as transformers computes them (float32), with llama3 rescaling. */
export function ropeInvFreq(rope: RopeConfig, hd: number): Float32Array {
  const half = hd / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(rope.theta, (2 * i) / hd);
  if (rope.type === 'llama3') {
    const factor = rope.factor ?? 8;
    const low = rope.lowFreqFactor ?? 1;
    const high = rope.highFreqFactor ?? 4;
    const old = rope.originalMaxPositionEmbeddings ?? 8192;
    const lowWavelen = old / low;
    const highWavelen = old / high;
    for (let i = 0; i < half; i++) {
      const f = inv[i];
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowWavelen) inv[i] = f / factor;
      else if (wavelen >= highWavelen) {
        const smooth = (old / wavelen - low) / (high - low);
        inv[i] = (1 - smooth) * (f / factor) + smooth * f;
      }
    }
  }
  return inv;
}

/** cos and sin of position * inv_freq for positions 0..S-1, each (S, hd/2). The angle is the
 * float32 product transformers forms; its cosine is taken in float64 (WGSL's cos is too coarse
 * for large angles) and rounded once. */
export function ropeTables(ctx: GpuContext, rope: RopeConfig, hd: number, S: number): { cos: Tensor; sin: Tensor } {
  const inv = ropeInvFreq(rope, hd);
  const half = hd / 2;
  const c = new Float32Array(S * half);
  const s = new Float32Array(S * half);
  for (let pos = 0; pos < S; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos * inv[i]);
      c[pos * half + i] = Math.cos(angle);
      s[pos * half + i] = Math.sin(angle);
    }
  }
  return { cos: uploadTensor(ctx, 'rope cos', [S, half], c), sin: uploadTensor(ctx, 'rope sin', [S, half], s) }; // (S, hd/2) f32 each
}

export interface SplitOptions {
  norm?: { weight: Tensor; eps: number };
  rope?: { cos: Tensor; sin: Tensor };
}

/** src (S, H * hd) -> dst (H, S, hd). */
export function splitHeadsDispatch(src: Tensor, dst: Tensor, S: number, H: number, hd: number, o: SplitOptions): Dispatch {
  if (hd > MAX_HEAD_DIM || hd % 2) throw new Error(`head_dim ${hd} is not supported (even, at most ${MAX_HEAD_DIM})`);
  const flags = (o.norm ? 1 : 0) | (o.rope ? 2 : 0);
  const dummy = src.buffer;
  return {
    kernel: { label: `split heads ${dst.label}`, code: headsWgsl, entryPoint: 'split' },
    buffers: [src.buffer, dst.buffer, o.norm?.weight.buffer ?? dummy, o.rope?.cos.buffer ?? dummy, o.rope?.sin.buffer ?? dummy],
    params: [u32(S), u32(H), u32(hd), u32(flags), f32(o.norm?.eps ?? 0), u32(0), u32(0), u32(0)],
    workgroups: [S, H],
  };
}

/** src (H, S, hd) -> dst (S, H * hd). */
export function mergeHeadsDispatch(src: Tensor, dst: Tensor, S: number, H: number, hd: number): Dispatch {
  return {
    kernel: { label: 'merge heads', code: headsWgsl, entryPoint: 'merge' },
    buffers: [src.buffer, dst.buffer, null, null, null],
    params: [u32(S), u32(H), u32(hd), u32(0), f32(0), u32(0), u32(0), u32(0)],
    workgroups: [S, H],
  };
}
