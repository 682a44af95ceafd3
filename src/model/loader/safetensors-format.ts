// The safetensors format (https://github.com/huggingface/safetensors): 8 bytes little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__},
// then the data; offsets count from the first byte after the header. This file parses and checks
// headers and writes files; safetensors-weights.ts reads the tensors.
import type { HostTensor } from '../config';
import { DTYPE_BYTES, f32ToBf16Bits, f32ToF16Bits, isSupportedDtype, numel, type Dtype } from './dtypes';
import { CheckpointError } from '../../../gpu/errors';

const fileError = (file: string, msg: string, tensor?: string) => new CheckpointError(msg, { file, tensor });

/** The reference implementation refuses headers over 100 MB; a larger length means a corrupt file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  /** Any safetensors dtype; only SUPPORTED_DTYPES can be turned into HostTensors. */
  dtype: string;
  shape: number[];
  /** Byte range relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Absolute offset of the data section: 8 + header length. */
  dataStart: number;
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

/** Reads the 8-byte header length. `fileSize`, when known, catches a length past the end. */
export function headerLength(first8: Uint8Array, file: string, fileSize?: number): number {
  if (first8.length < 8) {
    throw fileError(file, `${file}: only ${first8.length} bytes, too short for a safetensors file (it starts with an 8-byte header length). The file is truncated or not safetensors.`);
  }
  if (new TextDecoder().decode(first8.subarray(0, 8)) === 'version ') {
    throw fileError(file, `${file} is a Git LFS pointer, not the weights: run \`git lfs pull\` in the checkpoint folder.`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw fileError(file, `${file}: header length ${n} bytes is over the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file, or corrupt. Download it again.`);
  }
  const len = Number(n);
  if (fileSize !== undefined && 8 + len > fileSize) {
    throw fileError(file, `${file}: header says ${len} bytes of JSON but the file has only ${fileSize} bytes: the file is truncated or not safetensors. Download it again.`);
  }
  return len;
}

const isNonNegInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/**
 * Parses and checks the JSON header: known dtypes, shapes of non-negative integers, offsets inside
 * the data section (when `dataBytes` is known), sizes equal to numel * itemsize, no overlaps.
 */
export function parseHeader(json: Uint8Array, file: string, dataBytes?: number): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw fileError(file, `${file}: the safetensors header is not valid UTF-8 JSON (${(e as Error).message}). The file is corrupt or not safetensors. Download it again.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fileError(file, `${file}: the safetensors header must be a JSON object of tensors, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}.`);
  }
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (v ?? {}) as Record<string, string>; // free-form strings; not used by the loader
      continue;
    }
    const bad = (what: string) => fileError(file, `${file}: tensor ${name}: ${what}.`, name);
    if (typeof v !== 'object' || v === null) throw bad('header entry is not an object');
    const { dtype, shape, data_offsets } = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') throw bad('missing dtype');
    const itemsize = DTYPE_BYTES[dtype];
    if (itemsize === undefined) {
      throw bad(`unknown dtype ${JSON.stringify(dtype)}; safetensors dtypes are ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) throw bad(`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isNonNegInt)) {
      throw bad(`data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(data_offsets)}`);
    }
    const [begin, end] = data_offsets as number[];
    if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before begin`);
    const want = numel(shape) * itemsize;
    if (end - begin !== want) {
      throw bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${want}`);
    }
    if (dataBytes !== undefined && end > dataBytes) {
      throw bad(`data_offsets [${begin}, ${end}] run past the end of the data (${dataBytes} bytes): the file is truncated or corrupt; download it again`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1], c = sorted[i];
    if (c.begin < p.end) {
      throw fileError(file, `${file}: tensors ${p.name} [${p.begin}, ${p.end}) and ${c.name} [${c.begin}, ${c.end}) overlap. The file is corrupt: download it again.`);
    }
  }
  return { dataStart: 8 + json.length, entries, metadata };
}

/** Parses a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsHeader {
  const n = headerLength(bytes.subarray(0, 8), file, bytes.length);
  return parseHeader(bytes.subarray(8, 8 + n), file, bytes.length - 8 - n);
}

/** A HostTensor from a parsed entry and its bytes; unsupported dtypes are an error naming both. */
export function entryToTensor(entry: SafetensorsEntry, bytes: Uint8Array, file: string): HostTensor {
  if (!isSupportedDtype(entry.dtype)) {
    throw fileError(file, `${file}: tensor ${entry.name} has dtype ${entry.dtype}, which the studio cannot load (supported: F32, F16, BF16, I32, I64). Convert the checkpoint, e.g. model.to(torch.float16).save_pretrained(...).`, entry.name);
  }
  return { name: entry.name, dtype: entry.dtype, shape: [...entry.shape], bytes };
}

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Raw little-endian bytes (any typed array: its bytes are used as they are), or, for float
   * dtypes, values as a Float32Array/number[] that are converted (rounded to nearest even). */
  data: ArrayBufferView | number[];
}

function tensorBytes(t: TensorToWrite): Uint8Array {
  const n = numel(t.shape);
  const size = DTYPE_BYTES[t.dtype];
  const fromValues = Array.isArray(t.data) || (t.data instanceof Float32Array && t.dtype !== 'F32' && t.data.length === n);
  if (!fromValues) {
    const v = t.data as ArrayBufferView;
    const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (b.length !== n * size) {
      throw new Error(`writeSafetensors: tensor ${t.name}: ${b.length} bytes of data but shape [${t.shape.join(', ')}] of ${t.dtype} needs ${n * size}.`);
    }
    return b;
  }
  const vals = t.data as ArrayLike<number>;
  if (vals.length !== n) throw new Error(`writeSafetensors: tensor ${t.name}: ${vals.length} values but shape [${t.shape.join(', ')}] has ${n}.`);
  const out = new Uint8Array(n * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = vals[i];
    switch (t.dtype) {
      case 'F32': dv.setFloat32(4 * i, x, true); break;
      case 'F16': dv.setUint16(2 * i, f32ToF16Bits(x), true); break;
      case 'BF16': dv.setUint16(2 * i, f32ToBf16Bits(x), true); break;
      case 'I32': dv.setInt32(4 * i, x, true); break;
      case 'I64': dv.setBigInt64(8 * i, BigInt(x), true); break;
    }
  }
  return out;
}

/** A safetensors file holding `tensors` in the given order (header padded with spaces to a multiple
 * of 8 bytes, as the reference writer does, so the data section is 8-byte aligned). */
export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`writeSafetensors: tensor name ${t.name} is reserved or repeated.`);
    if (!isSupportedDtype(t.dtype)) throw new Error(`writeSafetensors: tensor ${t.name}: dtype ${t.dtype} is not one of F32, F16, BF16, I32, I64.`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt)) throw new Error(`writeSafetensors: tensor ${t.name}: shape ${JSON.stringify(t.shape)} must be a list of non-negative integers.`);
    const b = tensorBytes(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + b.length] };
    parts.push(b);
    offset += b.length;
  }
  const json = JSON.stringify(header);
  let jsonBytes = new TextEncoder().encode(json);
  const pad = (8 - (jsonBytes.length % 8)) % 8;
  if (pad) jsonBytes = new TextEncoder().encode(json + ' '.repeat(pad));
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let at = 8 + jsonBytes.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
