// A capture file (`sa-studio capture`, tools/capture) read layer by layer: the safetensors header
// first (its offsets say where each tensor lies), then one layer's q, k (and v) at a time, and
// only the rows asked for. A 64K-token capture of Llama-3.1-8B is 96 GiB: nothing here ever holds
// more than one layer (or the first T rows of one) on the host. No Node APIs: the studio reads a
// File through `blobSource`, the CLI a file descriptor (cli/capture-input.ts).
import { headerLength, parseHeader, type SafetensorsEntry } from '../../model/loader/safetensors-format';
import { QkFileError } from './qk-file';
import { FAMILIES, type Family } from '../../model/config';
import type { ModelIdentity } from './config-file';

/** Random access to the bytes of a file (a Blob in the browser, a file descriptor in Node). */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset`, in a buffer of their own (offset 0). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A File or Blob as a ByteSource: File.slice reads only the bytes asked for. */
export function blobSource(b: Blob): ByteSource {
  return { size: b.size, read: async (offset, length) => new Uint8Array(await b.slice(offset, offset + length).arrayBuffer()) };
}

/** What a capture's `__metadata__` says about the model it came from (tools/capture writes all of
 * these, `sa-studio capture` most; older files none). */
export interface CaptureModel {
  /** `model_name`: the checkpoint folder's name. */
  name?: string;
  /** `family`: the model_type, e.g. "llama". */
  family?: string;
  /** `num_layers`: the model's layers (a capture may hold fewer). */
  numLayers?: number;
}

export interface CaptureInfo {
  /** The name the file was opened under. */
  file: string;
  bytes: number;
  S: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** The model's index of each captured layer, ascending: [0, 1, ..] for `sa-studio capture`. */
  layers: number[];
  /** Every captured layer has v. */
  hasV: boolean;
  /** q + k (+ v) bytes of one layer. */
  layerBytes: number;
  /** `input_ids`, when the file has them. */
  ids?: Int32Array;
  model: CaptureModel;
  /** The captured text (`text` metadata), when it travelled with the file. */
  text?: string;
  /** `text_sha256`: of the whole text file. */
  textSha256?: string;
  metadata: Record<string, string>;
}

export interface CaptureLayer {
  /** (heads, T, d) f32 post-RoPE */
  q: Float32Array;
  /** (kvHeads, T, d) f32 post-RoPE */
  k: Float32Array;
  /** (kvHeads, T, d) f32, when asked for and the file has it */
  v?: Float32Array;
  /** Rows per head: the first T tokens. */
  T: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class CaptureFile {
  private constructor(readonly info: CaptureInfo, private readonly src: ByteSource, private readonly dataStart: number, private readonly entries: Map<string, SafetensorsEntry>) {}

  /** Reads and checks the header: q.<l>, k.<l> (v.<l>) F32 of one shape for every layer, offsets
   * inside the file. A wrong or truncated file is a QkFileError naming it (and the tensor). */
  static async open(src: ByteSource, file: string): Promise<CaptureFile> {
    const fail = (msg: string, tensor?: string): never => {
      throw new QkFileError(`${file}: ${msg}`, { file, tensor });
    };
    let header;
    try {
      const n = headerLength(await src.read(0, Math.min(8, src.size)), file, src.size);
      header = parseHeader(await src.read(8, n), file, src.size - 8 - n);
    } catch (e) {
      if (e instanceof QkFileError) throw e;
      const inner = e as Error & { tensor?: string };
      throw new QkFileError(`${inner.message} Not a complete capture: write it again with \`sa-studio capture\` (or tools/capture).`, { file, tensor: inner.tensor }, { cause: e });
    }
    const entries = new Map(header.entries.map((e) => [e.name, e]));
    const layers = header.entries.map((e) => /^q\.(\d+)$/.exec(e.name)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
    if (layers.length === 0) {
      const names = header.entries.map((e) => e.name).slice(0, 8).join(', ') || 'none';
      fail(`no tensor named q.<layer>: a capture holds q.<l> [heads, S, d], k.<l> and v.<l> [kv_heads, S, d] F32 per layer (found: ${names}${header.entries.length > 8 ? ', ...' : ''}). A single-layer select file (q, k) is for \`sa-studio select --qk\`.`);
    }
    const shapeOf = (name: string, dims: string): number[] | undefined => {
      const e = entries.get(name);
      if (!e) return undefined;
      if (e.dtype !== 'F32') fail(`tensor "${name}" has dtype ${e.dtype}; a capture holds F32 (in PyTorch: t.float()).`, name);
      if (e.shape.length !== 3 || !e.shape.every((x) => x >= 1)) fail(`tensor "${name}" has shape [${e.shape.join(', ')}]; it must be [${dims}] with every size at least 1.`, name);
      return e.shape;
    };
    const [heads, S, d] = shapeOf(`q.${layers[0]}`, 'heads, S, d')!;
    let kvHeads = 0;
    let hasV = true;
    for (const l of layers) {
      const q = shapeOf(`q.${l}`, 'heads, S, d')!;
      const k = shapeOf(`k.${l}`, 'kv_heads, S, d') ?? fail(`layer ${l} has q.${l} but no k.${l}.`, `k.${l}`);
      const v = shapeOf(`v.${l}`, 'kv_heads, S, d');
      if (q.join() !== [heads, S, d].join()) fail(`q.${l} is [${q.join(', ')}] but q.${layers[0]} is [${heads}, ${S}, ${d}]: every layer of a capture must have one shape (a model whose layers differ needs one capture per shape).`, `q.${l}`);
      if (k[1] !== S || k[2] !== d) fail(`q.${l} is [${q.join(', ')}] and k.${l} is [${k.join(', ')}]: S and d must match.`, `k.${l}`);
      if (kvHeads === 0) kvHeads = k[0];
      if (k[0] !== kvHeads) fail(`k.${l} has ${k[0]} kv heads but k.${layers[0]} has ${kvHeads}.`, `k.${l}`);
      if (heads % kvHeads !== 0) fail(`q has ${heads} heads and k ${kvHeads} kv heads; heads must be a multiple of kv_heads (grouped-query attention).`, `k.${l}`);
      if (v && v.join() !== k.join()) fail(`v.${l} is [${v.join(', ')}]; it must have k's shape [${k.join(', ')}].`, `v.${l}`);
      if (!v) hasV = false;
    }
    let ids: Int32Array | undefined;
    const idsEntry = entries.get('input_ids');
    if (idsEntry) {
      if (idsEntry.dtype !== 'I32' || idsEntry.shape.join() !== String(S)) fail(`input_ids is ${idsEntry.dtype} [${idsEntry.shape.join(', ')}]; a capture's token ids are I32 [S] = [${S}].`, 'input_ids');
      const b = await src.read(header.dataStart + idsEntry.begin, idsEntry.end - idsEntry.begin);
      ids = new Int32Array(S);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < S; i++) ids[i] = dv.getInt32(4 * i, true);
    }
    const meta = header.metadata;
    const str = (k: string) => (typeof meta[k] === 'string' && meta[k] !== '' ? meta[k] : undefined);
    const int = (k: string) => {
      const v = Number(str(k));
      return Number.isInteger(v) && v > 0 ? v : undefined;
    };
    const layerBytes = 4 * S * d * (heads + kvHeads * (hasV ? 2 : 1));
    const info: CaptureInfo = {
      file, bytes: src.size, S, heads, kvHeads, headDim: d, layers, hasV, layerBytes, ids,
      model: { name: str('model_name'), family: str('family'), numLayers: int('num_layers') },
      text: str('text'), textSha256: str('text_sha256'), metadata: meta,
    };
    return new CaptureFile(info, src, header.dataStart, entries);
  }

  /** The capture's i-th layer (info.layers[i] of the model): the first `tokens` rows of each head
   * of q and k (and v with `v`), checked finite. One layer's bytes are read, no more. */
  async readLayer(i: number, opts: { tokens?: number; v?: boolean } = {}): Promise<CaptureLayer> {
    const { S, heads, kvHeads, layers } = this.info;
    const l = layers[i];
    if (l === undefined) throw new RangeError(`the capture has layers 0..${layers.length - 1} (model layers ${layers.join(', ')}); there is no layer ${i}.`);
    const T = Math.max(1, Math.min(S, opts.tokens ?? S));
    const q = await this.rows(`q.${l}`, heads, T);
    const k = await this.rows(`k.${l}`, kvHeads, T);
    const v = opts.v && this.info.hasV ? await this.rows(`v.${l}`, kvHeads, T) : undefined;
    return { q, k, v, T };
  }

  /** Rows 0..T-1 of each of the `n` (S, d) blocks of a tensor, as (n, T, d) f32. One read when T
   * is S (the blocks are contiguous), else one read per block. */
  private async rows(name: string, n: number, T: number): Promise<Float32Array> {
    const { S, headDim: d, file } = this.info;
    const e = this.entries.get(name)!;
    const at = this.dataStart + e.begin;
    const parts = T === S ? [{ from: at, to: 0, values: n * S * d }] : Array.from({ length: n }, (_, h) => ({ from: at + h * S * d * 4, to: h * T * d, values: T * d }));
    let out: Float32Array | null = null;
    for (const p of parts) {
      const b = await this.src.read(p.from, 4 * p.values);
      if (b.length !== 4 * p.values) throw new QkFileError(`${file}: tensor "${name}": read ${b.length} of ${4 * p.values} bytes: the file changed or is truncated; write it again.`, { file, tensor: name });
      const aligned = LITTLE_ENDIAN && b.byteOffset % 4 === 0;
      // A whole tensor read in one piece is used in place: a 1 GiB q is not copied a second time.
      if (aligned && parts.length === 1) out = new Float32Array(b.buffer, b.byteOffset, p.values);
      else if (aligned) (out ??= new Float32Array(n * T * d)).set(new Float32Array(b.buffer, b.byteOffset, p.values), p.to);
      else {
        out ??= new Float32Array(n * T * d);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let t = 0; t < p.values; t++) out[p.to + t] = dv.getFloat32(4 * t, true);
      }
    }
    const x = out!; // parts is never empty: n >= 1
    for (let t = 0; t < x.length; t++) {
      if (!Number.isFinite(x[t])) {
        const h = Math.floor(t / (T * d)), row = Math.floor((t % (T * d)) / d);
        throw new QkFileError(`${file}: tensor "${name}" head ${h} token ${row} holds ${x[t]}; q, k and v must be finite: capture again from a model whose outputs are finite.`, { file, tensor: name });
      }
    }
    return x;
  }
}

/** "<model name>" or what the file lacks, for headers and reports. */
export const captureModelName = (info: CaptureInfo): string => info.model.name ?? 'model not named in the file';

/** What a config's model identity needs that the file may lack, given by hand (CLI flags). */
export interface IdentityOverrides {
  name?: string;
  family?: string;
  numLayers?: number;
}

/** The model identity a per-head config records, from the capture's metadata (model_name, family,
 * num_layers) and its tensor shapes; `given` fills or replaces what the file lacks. Throws a
 * QkFileError naming every missing or unusable key and the flag that supplies it. */
export function captureIdentity(info: CaptureInfo, given: IdentityOverrides = {}): ModelIdentity {
  const name = given.name ?? info.model.name;
  const family = given.family ?? info.model.family;
  // A capture of layers 0..n-1 without num_layers is taken as the whole model (sa-studio capture).
  const contiguous = info.layers.every((l, i) => l === i);
  const numLayers = given.numLayers ?? info.model.numLayers ?? (contiguous ? info.layers.length : undefined);
  const problems: string[] = [];
  if (!name) problems.push('the model\'s name (metadata "model_name"; give --model-name NAME)');
  if (!family) problems.push(`the model family (metadata "family"; give --family, one of ${FAMILIES.join(', ')})`);
  else if (!(FAMILIES as readonly string[]).includes(family)) problems.push(`family "${family}" is not one the studio knows (${FAMILIES.join(', ')}); give --family`);
  if (numLayers === undefined) problems.push(`the model's layer count (metadata "num_layers"; the file holds layers ${info.layers.join(', ')}; give --num-layers N)`);
  else if (!(Number.isInteger(numLayers) && numLayers > info.layers[info.layers.length - 1])) problems.push(`num_layers ${numLayers} does not hold the captured layers ${info.layers.join(', ')}`);
  if (problems.length) throw new QkFileError(`${info.file}: a per-head config records the model, but the capture does not say ${problems.join('; ')}.`, { file: info.file });
  return { name: name!, family: family as Family, layers: numLayers!, heads: info.heads, kvHeads: info.kvHeads, headDim: info.headDim };
}

/** Per model layer: the captured layers' values where the capture has the layer (`captured[i]` is
 * model layer `layers[i]`), `fill(modelLayer)` elsewhere: a capture of some layers as a whole-model
 * config (`tune --qk`, the studio's export). */
export function toModelLayers<T>(layers: readonly number[], numLayers: number, captured: readonly T[], fill: (modelLayer: number) => T): T[] {
  const at = new Map(layers.map((ml, i) => [ml, i]));
  return Array.from({ length: numLayers }, (_, ml) => (at.has(ml) ? captured[at.get(ml)!] : fill(ml)));
}
