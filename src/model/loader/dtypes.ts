// safetensors dtype names, their sizes, and conversions between float32 and the 16-bit formats
// (bit-exact: round to nearest even, as PyTorch's .to(torch.float16/bfloat16) does).
import type { HostTensor } from '../config';

export type Dtype = HostTensor['dtype'];

/** Dtypes the loader turns into HostTensors. */
export const SUPPORTED_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16', 'I32', 'I64'];

/** Every dtype the safetensors format defines, with bytes per element: a file may hold tensors of
 * these (e.g. a U8 buffer) and stays loadable as long as nobody asks for them. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

export function isSupportedDtype(d: string): d is Dtype {
  return (SUPPORTED_DTYPES as readonly string[]).includes(d);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // NaN stays a (quiet) NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** f32 -> f16 bits, round to nearest even (one implementation, shared with the GPU's f16 path). */
export { f16Bits as f32ToF16Bits } from '../../../gpu/tensorcore/half';

/** A tensor's values as float32 (integers converted exactly up to 2^24). */
export function toFloat32(t: HostTensor): Float32Array {
  const n = numel(t.shape);
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(dv.getUint16(2 * i, true));
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(dv.getUint16(2 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      break;
  }
  return out;
}

/** Integer tensor values (I32 or I64, e.g. token ids) as an Int32Array. */
export function toInt32(t: HostTensor): Int32Array {
  const n = numel(t.shape);
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Int32Array(n);
  if (t.dtype === 'I32') for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
  else if (t.dtype === 'I64') for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
  else throw new Error(`Tensor ${t.name} is ${t.dtype}, not an integer tensor (I32 or I64).`);
  return out;
}
