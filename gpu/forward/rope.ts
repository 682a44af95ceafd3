// RoPE frequencies and cos/sin tables, computed on the host the way transformers computes them in
// float32 (each torch op rounded to f32 here with Math.fround), so the GPU rotates by the same
// angles as the reference implementation up to the last ulp of cos/sin:
//   default: inv_freq[i] = 1 / theta^(2i / hd)                   (_compute_default_rope_parameters)
//   llama3:  low frequencies divided by `factor`, a smooth blend between low_freq_factor and
//            high_freq_factor wavelengths                      (_compute_llama3_parameters)
//   angle(pos, i) = f32(pos * inv_freq[i]); cos/sin of that angle, rounded to f32.
// Both types have attention_scaling 1, so the tables are not scaled.
import type { GpuContext } from '../device';
import { uploadTensor } from '../tensor';
import type { RopeTables } from './heads';

/** The fields of src/model/config.ts RopeConfig that the frequencies depend on. */
export interface RopeSettings {
  theta: number;
  type: 'default' | 'llama3';
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

const f = Math.fround;

/** inv_freq (hd/2 values) as transformers computes it in float32. */
export function ropeInvFreqF32(rope: RopeSettings, hd: number): Float32Array {
  if (hd % 2 !== 0) throw new RangeError(`RoPE: head dimension ${hd} must be even.`);
  const half = hd / 2;
  const inv = new Float32Array(half);
  // torch: 1.0 / (base ** (arange(0, hd, 2).float() / hd))
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(rope.theta ** f((2 * i) / hd)));
  if (rope.type === 'default') return inv;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = rope;
  if (factor === undefined || lowFreqFactor === undefined || highFreqFactor === undefined || old === undefined) {
    throw new Error('RoPE type llama3 needs factor, lowFreqFactor, highFreqFactor and originalMaxPositionEmbeddings.');
  }
  if (highFreqFactor === lowFreqFactor) throw new Error('RoPE type llama3: high_freq_factor equals low_freq_factor (the blend would divide by zero).');
  const lowWavelen = f(old / lowFreqFactor);
  const highWavelen = f(old / highFreqFactor);
  const span = f(highFreqFactor - lowFreqFactor);
  for (let i = 0; i < half; i++) {
    const x = inv[i];
    const wavelen = f((2 * Math.PI) / x);
    // where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    const llama = wavelen > lowWavelen ? f(x / factor) : x;
    const smooth = f(f(f(old / wavelen) - lowFreqFactor) / span);
    // (1 - smooth) * inv_freq_llama / factor + smooth * inv_freq_llama, left to right in f32
    const smoothed = f(f(f(f(1 - smooth) * llama) / factor) + f(smooth * llama));
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    inv[i] = medium ? smoothed : llama;
  }
  return inv;
}

/** cos and sin tables (S, hd/2) for positions start .. start + S - 1, as f32 values: a decode
 * step's one row at position p is bit for bit row p of the prefill's table. */
export function ropeTablesHost(rope: RopeSettings, hd: number, S: number, start = 0): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInvFreqF32(rope, hd);
  const half = hd / 2;
  const cos = new Float32Array(S * half);
  const sin = new Float32Array(S * half);
  for (let s = 0; s < S; s++) {
    for (let i = 0; i < half; i++) {
      const angle = f((start + s) * inv[i]);
      cos[s * half + i] = Math.cos(angle);
      sin[s * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

export function uploadRopeTables(ctx: GpuContext, rope: RopeSettings, hd: number, S: number, start = 0): RopeTables {
  const t = ropeTablesHost(rope, hd, S, start);
  return {
    cos: uploadTensor(ctx, 'rope cos', [S, hd / 2], t.cos), // (S, hd/2) f32
    sin: uploadTensor(ctx, 'rope sin', [S, hd / 2], t.sin), // (S, hd/2) f32
  };
}
