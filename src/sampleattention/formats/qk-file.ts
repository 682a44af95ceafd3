// The `select` verb's input: a safetensors file holding post-RoPE `q` [heads, S, d] and `k`
// [kv_heads, S, d] (optionally `v` [kv_heads, S, d]) as F32. The format itself is parsed and
// checked by the model loader (src/model/loader/safetensors-format.ts); this file checks what
// select needs of the tensors and reads them. No Node APIs, so the studio can read the same files.
import { parseSafetensors, writeSafetensors, type SafetensorsEntry } from '../../model/loader/safetensors-format';
import { InputError } from '../../../gpu/errors';

export interface QkTensors {
  /** (heads, S, d) f32 */
  q: Float32Array;
  /** (kvHeads, S, d) f32 */
  k: Float32Array;
  /** (kvHeads, S, d) f32, when the file has one */
  v?: Float32Array;
  heads: number;
  kvHeads: number;
  S: number;
  d: number;
}

/** A capture / select input file that cannot be used; `file` and (where one is at fault) `tensor` name it. */
export class QkFileError extends InputError {
  override name = 'QkFileError';
}

/** Parses the bytes of a safetensors file into validated q, k (and v) with their sizes. */
export function parseQkSafetensors(bytes: Uint8Array, fileName = 'the file', layer?: number): QkTensors {
  // `sa-studio capture` writes one pair per layer: q.<layer>, k.<layer>.
  const sfx = layer === undefined ? '' : `.${layer}`;
  const fail = (msg: string, tensor?: string): never => {
    throw new QkFileError(`${fileName}: ${msg}`, { file: fileName, tensor });
  };
  let header;
  try {
    header = parseSafetensors(bytes, fileName);
  } catch (e) {
    const inner = e as Error & { tensor?: string };
    throw new QkFileError(`${inner.message}${/again/.test(inner.message) ? '' : ' Write it again with `sa-studio capture`.'}`, { file: fileName, tensor: inner.tensor }, { cause: e });
  }
  const byName = new Map<string, SafetensorsEntry>(header.entries.map((e) => [e.name, e]));

  const tensor = (name: string, dims: string): { data: Float32Array; shape: number[] } | undefined => {
    const e = byName.get(name);
    if (!e) return undefined;
    if (e.dtype !== 'F32') fail(`tensor "${name}" has dtype ${e.dtype}; select needs F32 (in PyTorch: t.float()).`, name);
    if (e.shape.length !== 3) fail(`tensor "${name}" has shape [${e.shape.join(', ')}] (rank ${e.shape.length}); it must be rank 3: [${dims}].`, name);
    if (!e.shape.every((x) => x >= 1)) fail(`tensor "${name}" has shape [${e.shape.join(', ')}]; every size must be at least 1.`, name);
    const n = e.shape[0] * e.shape[1] * e.shape[2];
    const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataStart + e.begin, 4 * n);
    const data = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      data[t] = view.getFloat32(4 * t, true); // little-endian whatever the host
      if (!Number.isFinite(data[t])) fail(`tensor "${name}" element ${t} is ${data[t]}; q, k and v must be finite: capture again from a model whose outputs are finite.`, name);
    }
    return { data, shape: e.shape };
  };

  const found = header.entries.map((e) => e.name).join(', ') || 'none';
  const need = `select needs F32 "q${sfx}" [heads, S, d] and "k${sfx}" [kv_heads, S, d], post-RoPE (found: ${found})${layer === undefined && byName.has('q.0') ? '; this looks like a capture file: pass --layer L' : ''}`;
  const q = tensor(`q${sfx}`, 'heads, S, d') ?? fail(`no tensor named "q${sfx}"; ${need}.`);
  const k = tensor(`k${sfx}`, 'kv_heads, S, d') ?? fail(`no tensor named "k${sfx}"; ${need}.`);
  const v = tensor(`v${sfx}`, 'kv_heads, S, d');
  const [heads, S, d] = q.shape;
  const [kvHeads, Sk, dk] = k.shape;
  if (Sk !== S || dk !== d) fail(`q is [${q.shape.join(', ')}] and k is [${k.shape.join(', ')}]: S and d must match (q [heads, S, d], k [kv_heads, S, d]).`);
  if (heads % kvHeads !== 0) fail(`q has ${heads} heads and k has ${kvHeads} kv heads; heads must be a multiple of kv_heads (grouped-query attention).`);
  if (v && (v.shape[0] !== kvHeads || v.shape[1] !== S || v.shape[2] !== d)) fail(`v is [${v.shape.join(', ')}]; it must have k's shape [${k.shape.join(', ')}].`);
  return { q: q.data, k: k.data, v: v?.data, heads, kvHeads, S, d };
}

/** The bytes of a select input file (F32 q, k and optionally v). */
export function encodeQkSafetensors(t: { q: Float32Array; k: Float32Array; v?: Float32Array; heads: number; kvHeads: number; S: number; d: number }): Uint8Array {
  const list = [
    { name: 'q', dtype: 'F32' as const, shape: [t.heads, t.S, t.d], data: t.q },
    { name: 'k', dtype: 'F32' as const, shape: [t.kvHeads, t.S, t.d], data: t.k },
  ];
  if (t.v) list.push({ name: 'v', dtype: 'F32' as const, shape: [t.kvHeads, t.S, t.d], data: t.v });
  return writeSafetensors(list);
}
