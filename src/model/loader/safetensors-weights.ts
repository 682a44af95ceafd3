// A checkpoint's weights as a WeightSource: one model.safetensors, or shards listed by
// model.safetensors.index.json. Everything is read up front (get() is synchronous for the
// forward-pass builder), tensor by tensor through readRange when the files allow it, so a multi-GB
// checkpoint never needs one multi-GB allocation.
import type { HostTensor, WeightSource } from '../config';
import { DTYPE_BYTES, isSupportedDtype } from './dtypes';
import type { CheckpointFiles, ProgressFn } from './files';
import { entryToTensor, headerLength, parseHeader, type SafetensorsEntry } from './safetensors-format';
import { readJsonFile } from './json-file';
import { CheckpointError } from '../../../gpu/errors';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

/** Tensors larger than this are read on their own; smaller neighbours are read together. */
const CHUNK_BYTES = 64 << 20;

export interface CheckpointWeights extends WeightSource {
  /** The file a tensor lives in (undefined when absent). */
  fileOf(name: string): string | undefined;
  /** Weight files read, in order. */
  files: string[];
  /** Bytes of tensor data held. */
  totalBytes: number;
  /** The checkpoint's label (its folder), so messages can give a tensor's file as a path. */
  label?: string;
}

/** Which weight files a checkpoint has, or an error saying what was found instead. */
export async function weightFiles(files: CheckpointFiles): Promise<{ shards: string[]; weightMap?: Record<string, string> }> {
  if (files.has(INDEX_FILE)) {
    const index = await readJsonFile(files, INDEX_FILE);
    const map = typeof index === 'object' && index !== null ? (index as { weight_map?: unknown }).weight_map : undefined;
    if (typeof map !== 'object' || map === null || Array.isArray(map) || !Object.values(map).every((v) => typeof v === 'string')) {
      throw new CheckpointError(`${files.label}/${INDEX_FILE}: "weight_map" must be an object mapping tensor names to shard file names. Download the index again.`, { file: `${files.label}/${INDEX_FILE}`, key: 'weight_map' });
    }
    const weightMap = map as Record<string, string>;
    const shards = [...new Set(Object.values(weightMap))].sort();
    const missing = shards.filter((s) => !files.has(s));
    if (missing.length) {
      const tensor = Object.keys(weightMap).find((k) => weightMap[k] === missing[0]);
      throw new CheckpointError(`${files.label}: ${INDEX_FILE} lists shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} but ${missing.length > 1 ? 'they are' : 'it is'} missing (it holds e.g. tensor ${tensor}). Download every shard of the checkpoint.`, { file: `${files.label}/${missing[0]}`, tensor });
    }
    if (shards.length === 0) throw new CheckpointError(`${files.label}/${INDEX_FILE}: weight_map is empty: the index lists no tensors. Download the index again.`, { file: `${files.label}/${INDEX_FILE}`, key: 'weight_map' });
    return { shards, weightMap };
  }
  if (files.has(SINGLE_FILE)) return { shards: [SINGLE_FILE] };
  const all = files.list();
  // Other .safetensors files (adapters, reference outputs) are not taken for the model's weights.
  const st = all.filter((n) => n.endsWith('.safetensors'));
  if (st.length) {
    throw new CheckpointError(`${files.label}: no ${SINGLE_FILE} or ${INDEX_FILE}; found ${st.join(', ')}. If one of these holds the model's weights, rename it to ${SINGLE_FILE}.`, { file: `${files.label}/${SINGLE_FILE}` });
  }
  const other = all.filter((n) => /\.(bin|pt|pth|ckpt|gguf|h5|msgpack)$/.test(n));
  throw new CheckpointError(
    `${files.label}: no weights in safetensors format (${SINGLE_FILE} or ${INDEX_FILE}).` +
      (other.length
        ? ` Found ${other.join(', ')}, which the studio cannot read: convert with transformers, e.g. AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True).`
        : ` Files present: ${all.join(', ') || '(none)'}. Download the checkpoint's model.safetensors (or its shards and ${INDEX_FILE}).`),
    { file: `${files.label}/${SINGLE_FILE}` },
  );
}

async function readRange(files: CheckpointFiles, file: string, start: number, end: number, whole?: Uint8Array): Promise<Uint8Array> {
  if (whole) return whole.subarray(start, end);
  return files.readRange!(file, start, end);
}

interface FileHeader {
  file: string;
  dataStart: number;
  entries: SafetensorsEntry[];
  /** The whole file when the source cannot read ranges. */
  whole?: Uint8Array;
}

async function readHeader(files: CheckpointFiles, file: string): Promise<FileHeader> {
  const label = `${files.label}/${file}`;
  const whole = files.readRange ? undefined : await files.read(file);
  const size = whole ? whole.length : files.size ? await files.size(file) : undefined;
  const n = headerLength(await readRange(files, file, 0, 8, whole), label, size);
  const json = await readRange(files, file, 8, 8 + n, whole);
  if (json.length < n) throw new CheckpointError(`${label}: the file ends inside its ${n}-byte header: it is truncated. Download it again.`, { file: label });
  const header = parseHeader(json, label, size === undefined ? undefined : size - 8 - n);
  return { file, dataStart: header.dataStart, entries: header.entries, whole };
}

/** Copies a view whose offset would not suit a typed array of the dtype (Float32Array needs 4). */
function aligned(bytes: Uint8Array, dtype: string): Uint8Array {
  const align = DTYPE_BYTES[dtype] ?? 1;
  return bytes.byteOffset % align === 0 ? bytes : bytes.slice();
}

/** Groups entries (sorted by offset) into runs read with one call each. */
function chunks(entries: SafetensorsEntry[]): SafetensorsEntry[][] {
  const out: SafetensorsEntry[][] = [];
  let cur: SafetensorsEntry[] = [];
  for (const e of entries) {
    if (cur.length && e.end - cur[0].begin > CHUNK_BYTES) {
      out.push(cur);
      cur = [];
    }
    cur.push(e);
  }
  if (cur.length) out.push(cur);
  return out;
}

export async function loadSafetensorsWeights(files: CheckpointFiles, onProgress?: ProgressFn): Promise<CheckpointWeights> {
  const { shards, weightMap } = await weightFiles(files);
  const headers: FileHeader[] = [];
  for (const s of shards) headers.push(await readHeader(files, s));

  const where = new Map<string, { file: string; entry: SafetensorsEntry }>();
  for (const h of headers) {
    for (const e of h.entries) {
      const prev = where.get(e.name);
      if (prev) throw new CheckpointError(`${files.label}: tensor ${e.name} is in both ${prev.file} and ${h.file}: the shards belong to different checkpoints.`, { file: `${files.label}/${h.file}`, tensor: e.name });
      where.set(e.name, { file: h.file, entry: e });
    }
  }
  if (weightMap) {
    for (const [name, file] of Object.entries(weightMap)) {
      const got = where.get(name);
      if (!got || got.file !== file) {
        throw new CheckpointError(`${files.label}: ${INDEX_FILE} says tensor ${name} is in ${file}, but ${got ? `it is in ${got.file}` : `${file} has no such tensor`}. The index and the shards do not match: download them again.`, { file: `${files.label}/${file}`, tensor: name });
      }
    }
  }

  const wanted = (e: SafetensorsEntry) => isSupportedDtype(e.dtype);
  const totalBytes = headers.reduce((a, h) => a + h.entries.filter(wanted).reduce((b, e) => b + e.end - e.begin, 0), 0);
  const tensors = new Map<string, HostTensor>();
  let done = 0;
  for (const h of headers) {
    const label = `${files.label}/${h.file}`;
    const sorted = h.entries.filter(wanted).sort((a, b) => a.begin - b.begin);
    for (const run of chunks(sorted)) {
      const start = run[0].begin;
      const end = run[run.length - 1].end;
      const bytes = await readRange(files, h.file, h.dataStart + start, h.dataStart + end, h.whole);
      if (bytes.length < end - start) {
        const short = run.find((e) => e.end - start > bytes.length)!;
        throw new CheckpointError(`${label}: the file is truncated: tensor ${short.name} needs bytes up to ${h.dataStart + short.end} but the file ends at ${h.dataStart + start + bytes.length}. Download it again.`, { file: label, tensor: short.name });
      }
      for (const e of run) {
        tensors.set(e.name, entryToTensor(e, aligned(bytes.subarray(e.begin - start, e.end - start), e.dtype), label));
        done += e.end - e.begin;
      }
      onProgress?.(done, totalBytes, h.file);
    }
  }
  if (totalBytes === 0) onProgress?.(0, 0, shards[shards.length - 1]);

  const names = [...where.keys()].sort();
  const shardList = shards.join(', ');
  return {
    files: shards,
    totalBytes,
    label: files.label,
    names: () => [...names],
    has: (name) => tensors.has(name),
    fileOf: (name) => where.get(name)?.file,
    get(name) {
      const t = tensors.get(name);
      if (t) return t;
      const w = where.get(name);
      if (w) entryToTensor(w.entry, new Uint8Array(0), `${files.label}/${w.file}`); // throws: unsupported dtype
      throw new CheckpointError(`${files.label}: tensor ${name} is not in ${shardList}.${similarNames(name, names)}`, { file: `${files.label}/${shards[0]}`, tensor: name });
    },
  };
}

/** " Similar names: ..." for a missing tensor: same last two name parts, or the name minus/plus a prefix. */
export function similarNames(name: string, names: string[]): string {
  const tail = name.split('.').slice(-2).join('.');
  const hits = names.filter((n) => n.endsWith(name) || name.endsWith(n) || n.endsWith('.' + tail)).slice(0, 5);
  const sample = hits.length ? hits : names.slice(0, 5);
  return sample.length ? ` ${hits.length ? 'Similar names' : 'It has names like'}: ${sample.join(', ')}${names.length > sample.length ? ', ...' : ''} (${names.length} tensors in all).` : ' The checkpoint has no tensors.';
}

/** get(name) that also checks shape (and dtype), with an error naming the tensor, its file and what was expected. */
export function expectTensor(weights: WeightSource & { fileOf?(name: string): string | undefined }, name: string, shape: readonly number[], dtypes?: readonly string[]): HostTensor {
  const t = weights.get(name);
  const file = weights.fileOf?.(name) ?? 'the checkpoint';
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new CheckpointError(`Tensor ${name} in ${file} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] from config.json. The weights do not belong to this config.`, { file, tensor: name });
  }
  if (dtypes && !dtypes.includes(t.dtype)) {
    throw new CheckpointError(`Tensor ${name} in ${file} is ${t.dtype}, expected ${dtypes.join(' or ')}.`, { file, tensor: name });
  }
  return t;
}
