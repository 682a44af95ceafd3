// Host-side widening of checkpoint weights to f32, the only dtype the kernels read. f16 and bf16
// are exact subsets of f32, so widening loses nothing: every f16 value (subnormals, +-inf, NaN
// included) and every bf16 value has one f32 with the same value.

export type FloatDtype = 'F32' | 'F16' | 'BF16';

export const isFloatDtype = (d: string): d is FloatDtype => d === 'F32' || d === 'F16' || d === 'BF16';

/** f16 bits -> value, exact: e = 0 is subnormal (m * 2^-24), e = 31 is inf (m = 0) or NaN. */
export function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

let f16Table: Float32Array | undefined;
/** All 65536 f16 values, built once: a table lookup widens a large tensor far faster than bit math. */
function f16Values(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToNumber(h);
  }
  return f16Table;
}

/** `n` little-endian values of `dtype` in `bytes` as a new Float32Array. `what` names the tensor in errors. */
export function widenToF32(dtype: string, bytes: Uint8Array, n: number, what: string): Float32Array {
  if (!isFloatDtype(dtype)) throw new Error(`${what} is ${dtype}; weights must be F32, F16 or BF16.`);
  const item = dtype === 'F32' ? 4 : 2;
  if (bytes.byteLength !== n * item) {
    throw new Error(`${what}: ${bytes.byteLength} bytes for ${n} ${dtype} values (${n * item} expected).`);
  }
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    // Copy through bytes: the source may not be 4-byte aligned inside its file buffer.
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  // 2-byte items: read as Uint16 from an aligned copy when the view is misaligned.
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const h = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
  if (dtype === 'F16') {
    const table = f16Values();
    for (let i = 0; i < n; i++) out[i] = table[h[i]];
  } else {
    // bf16 is the top half of an f32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
  }
  return out;
}

/** Index of the first NaN or +-Infinity in `xs`, or -1. (x - x is 0 for every finite x and NaN
 * otherwise, which is cheaper than Number.isFinite in a hot loop.) */
export function firstNonFinite(xs: ArrayLike<number>): number {
  for (let i = 0; i < xs.length; i++) if (xs[i] - xs[i] !== 0) return i;
  return -1;
}
