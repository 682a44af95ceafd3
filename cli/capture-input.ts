// `--qk CAPTURE` for the verbs that need only q/k(/v) (tune, rivals, maps): the capture file opened
// layer by layer (src/sampleattention/formats/capture-file.ts) through a file descriptor, and the
// GPU, with the one-layer limit checked before anything is read. The verbs then run the same
// studies as with --model; only the source of the layer tensors differs.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { nodeGpu } from '../gpu/node-gpu';
import { describeAdapter, type GpuContext } from '../gpu/device';
import { CaptureFile, type ByteSource } from '../src/sampleattention/formats/capture-file';
import { parseQkSafetensors, QkFileError, type QkTensors } from '../src/sampleattention/formats/qk-file';
import { gpuLimits, guardCaptureLayer } from '../src/model/memory-plan';
import { UsageError, type FlagSpec } from './args';

export const QK_FLAG: FlagSpec = {
  qk: { kind: 'string', help: 'a capture file (`sa-studio capture`, tools/capture) instead of --model and --text: its layers are read one at a time' },
};

/** A file as a ByteSource; reads are synchronous under the promise (one layer at a time). */
export function fileSource(path: string): ByteSource & { close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new QkFileError(`--qk ${path}: cannot read it (${code === 'ENOENT' ? 'no such file' : (e as Error).message}); write one with \`sa-studio capture\`.`, { file: path });
  }
  const size = fstatSync(fd).size;
  return {
    size,
    read: async (offset, length) => {
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        // At most 1 GiB a call: readSync refuses lengths past 2 GiB, and one tensor of a 128K
        // capture (Llama-3.1-8B's q of a layer) is 2 GiB.
        const n = readSync(fd, out, got, Math.min(length - got, 1 << 30), offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === length ? out : out.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

export interface CaptureSession {
  capture: CaptureFile;
  ctx: GpuContext;
  adapter: string;
  /** Tokens the verb uses: the first `--max-tokens` of the capture's S. */
  tokens: number;
  close(): void;
}

/** Opens `--qk`, gets the GPU and refuses a layer past the adapter's limits (LimitError). */
export async function openCaptureSession(verb: string, file: string, maxTokens?: number): Promise<CaptureSession> {
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens >= 1)) throw new UsageError(`${verb}: --max-tokens must be a positive integer, got ${maxTokens}.`);
  const src = fileSource(file);
  try {
    const capture = await CaptureFile.open(src, file);
    const { info } = capture;
    const tokens = Math.min(info.S, maxTokens ?? info.S);
    const ctx = await nodeGpu();
    guardCaptureLayer({ S: tokens, heads: info.heads, kvHeads: info.kvHeads, headDim: info.headDim, hasV: info.hasV }, gpuLimits(ctx.device), file);
    process.stderr.write(`${verb}: ${file}: ${info.layers.length} layer(s) (${info.layers.join(', ')}) of ${info.heads} heads (${info.kvHeads} kv), d ${info.headDim}, ${tokens}${tokens < info.S ? ` of ${info.S}` : ''} tokens; model ${info.model.name ?? '(not named in the file)'}\n`);
    return { capture, ctx, adapter: describeAdapter(ctx.adapter), tokens, close: src.close };
  } catch (e) {
    src.close();
    throw e;
  }
}

/** `--qk` or `--model` with `--text`, not both; a usage error naming what is missing. */
export function modelOrCapture(verb: string, f: Record<string, unknown>, textFlag = 'text'): 'qk' | 'model' {
  if (f.qk !== undefined) {
    const extra = ['model', textFlag].filter((k) => f[k] !== undefined);
    if (extra.length) throw new UsageError(`${verb}: --qk reads q/k from the capture; drop ${extra.map((k) => `--${k}`).join(' and ')} (or drop --qk to run the model).`);
    return 'qk';
  }
  const missing = ['model', textFlag].filter((k) => f[k] === undefined);
  if (missing.length) throw new UsageError(`${verb}: ${missing.map((k) => `--${k}`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required (or --qk CAPTURE, a file written by \`sa-studio capture\`).`);
  return 'model';
}

/** One layer of `--qk` for the verbs that take a single layer (select, bench, convert). With
 * `layer`, the model layer's q.<layer>, k.<layer> (v.<layer>) of a capture, read alone through
 * CaptureFile: never the whole file, so a capture past 2 GiB (Node's limit for reading a file
 * whole; tools/capture writes 96 GiB for Llama-3.1-8B at 128K) works as a small one does. Without
 * it, a select file's q, k (v), read whole (parseQkSafetensors, which says "pass --layer L" when
 * the file is a capture). Errors are QkFileErrors naming the file. */
export async function readQkLayer(file: string, layer?: number): Promise<QkTensors> {
  if (layer === undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'ERR_FS_FILE_TOO_LARGE' ? 'over 2 GiB, too large to read whole; a capture (q.<layer>, k.<layer>) with --layer L is read one layer at a time' : (e as Error).message;
      throw new QkFileError(`--qk ${file}: cannot read it (${why}); write one with \`sa-studio capture\`.`, { file });
    }
    return parseQkSafetensors(bytes, file, undefined);
  }
  if (!(Number.isInteger(layer) && layer >= 0)) throw new UsageError(`--layer must be a layer index (an integer, 0 or more), got ${layer}.`);
  const src = fileSource(file);
  try {
    const capture = await CaptureFile.open(src, file);
    const { info } = capture;
    const i = info.layers.indexOf(layer);
    if (i < 0) throw new QkFileError(`${file}: no tensor named "q.${layer}": the capture holds model layer(s) ${info.layers.join(', ')}; pass one of them as --layer.`, { file, tensor: `q.${layer}` });
    const t = await capture.readLayer(i, { v: true });
    return { q: t.q, k: t.k, v: t.v, heads: info.heads, kvHeads: info.kvHeads, S: t.T, d: info.headDim };
  } finally {
    src.close();
  }
}
