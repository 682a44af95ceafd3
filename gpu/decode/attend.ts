// Host wrapper of the decode-step attention (attend.wgsl): one query per head over the first n
// rows of a KV cache, in two dispatches (per-chunk partial softmax, then the exact combine).
import type { GpuContext } from '../device';
import { ceilDiv, f32, u32, type Dispatch } from '../kernel';
import { createTensor, shapeString, type Tensor } from '../tensor';
import attendWgsl from './attend.wgsl';
import reduceWgsl from '../forward/reduce.wgsl';

/** The kernel's WGSL with the shared workgroup reduction (reduce.wgsl). */
const attendWgslFull = reduceWgsl + '\n' + attendWgsl;

/** Keys per partial workgroup (CHUNK in attend.wgsl). */
export const DECODE_CHUNK = 256;
/** Largest head dimension the kernel holds in workgroup memory (MAX_HD in attend.wgsl). */
export const DECODE_MAX_HEAD_DIM = 256;

export interface DecodeAttentionArgs {
  /** (heads, 1, hd) f32: the step's query, post-RoPE */
  q: Tensor;
  /** (kvHeads, cap, hd) f32: keys of positions 0 .. n - 1 in rows 0 .. n - 1 */
  k: Tensor;
  /** (kvHeads, cap, hd) f32 */
  v: Tensor;
  /** cached positions to attend to, 1 .. cap */
  n: number;
  /** (heads, chunks, hd + 2) f32 scratch with chunks >= ceil(n / DECODE_CHUNK): decodeScratch */
  scratch: Tensor;
  /** (heads, 1, hd) f32, written */
  out: Tensor;
  /** (heads) f32, written: log sum_j exp(scale q . k_j) */
  lse: Tensor;
  /** default 1 / sqrt(hd) */
  scale?: number;
}

/** Scratch for caches of up to `cap` rows: (heads, ceil(cap / DECODE_CHUNK), hd + 2) f32. */
export function decodeScratch(ctx: GpuContext, heads: number, cap: number, hd: number): Tensor {
  return createTensor(ctx, 'decode attention partials', [heads, ceilDiv(cap, DECODE_CHUNK), hd + 2]); // (heads, chunks, hd + 2) f32
}

export function decodeAttentionDispatches(ctx: GpuContext, a: DecodeAttentionArgs): Dispatch[] {
  const [heads, one, hd] = a.q.shape;
  const [kvHeads, cap, hdk] = a.k.shape;
  if (a.q.shape.length !== 3 || one !== 1) throw new RangeError(`decode attention: q ${a.q.label} ${shapeString(a.q.shape)} must be (heads, 1, hd).`);
  if (a.k.shape.length !== 3 || hdk !== hd) throw new RangeError(`decode attention: k cache ${a.k.label} ${shapeString(a.k.shape)} must be (kvHeads, cap, ${hd}).`);
  if (a.v.shape.join() !== a.k.shape.join()) throw new RangeError(`decode attention: v cache ${a.v.label} ${shapeString(a.v.shape)} must be ${shapeString(a.k.shape)} like k.`);
  if (heads % kvHeads !== 0) throw new RangeError(`decode attention: heads (${heads}) is not a multiple of kv heads (${kvHeads}).`);
  if (hd > DECODE_MAX_HEAD_DIM) throw new RangeError(`decode attention: head dimension ${hd} is above ${DECODE_MAX_HEAD_DIM}.`);
  if (!Number.isInteger(a.n) || a.n < 1 || a.n > cap) throw new RangeError(`decode attention: n = ${a.n} cached positions, but the cache holds 1 .. ${cap}.`);
  const chunks = ceilDiv(a.n, DECODE_CHUNK);
  const [sh, sc, sw] = a.scratch.shape;
  if (sh !== heads || sc < chunks || sw !== hd + 2) throw new RangeError(`decode attention: scratch ${shapeString(a.scratch.shape)} must be at least (${heads}, ${chunks}, ${hd + 2}).`);
  if (a.out.shape.join() !== a.q.shape.join()) throw new RangeError(`decode attention: out ${a.out.label} ${shapeString(a.out.shape)} must be ${shapeString(a.q.shape)}.`);
  if (a.lse.shape.length !== 1 || a.lse.shape[0] !== heads) throw new RangeError(`decode attention: lse ${a.lse.label} ${shapeString(a.lse.shape)} must be (${heads}).`);
  const params = [u32(a.n), u32(cap), u32(hd), u32(heads / kvHeads), f32(a.scale ?? 1 / Math.sqrt(hd)), u32(chunks), u32(0), u32(0)];
  const buffers = [a.q.buffer, a.k.buffer, a.v.buffer, a.scratch.buffer, a.out.buffer, a.lse.buffer];
  return [
    { kernel: { label: 'decode attention partials', code: attendWgslFull, entryPoint: 'partial' }, buffers, params, workgroups: [chunks, heads] },
    { kernel: { label: 'decode attention combine', code: attendWgslFull, entryPoint: 'combine' }, buffers, params, workgroups: [heads] },
  ];
}
