// f32 -> f16 on the host, round to nearest even (as the GPU's f16() conversion does), for weights
// and test inputs of the tensor-core path. Values beyond the f16 range become +-inf: callers that
// must not lose range check with `f16Overflow` first.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f16 bit pattern nearest to x (ties to even); NaN stays NaN, overflow gives +-inf. */
export function f16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0); // inf / NaN
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // subnormal f16 (or zero): shift the full mantissa (with its hidden bit) right
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e; // 14 .. 24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = sign | (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: still right
  return h;
}

/** Every value of `a` as f16 bits. */
export function toF16(a: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f16Bits(a[i]);
  return out;
}

/** Largest finite f16. */
export const F16_MAX = 65504;

/** Index of the first finite value of `a` that f16 cannot hold (|x| > 65504 rounds to inf), or -1. */
export function f16Overflow(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) >= 65520 && Number.isFinite(a[i])) return i;
  return -1;
}
