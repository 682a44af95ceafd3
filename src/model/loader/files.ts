// Where a checkpoint's files come from, so one loader serves Node (a folder on disk, see
// node-folder.ts, kept apart so browser bundles never import node:fs) and the browser (File
// objects from <input type="file" webkitdirectory> or a drop). Files are addressed by their base
// name ("config.json", "model-00001-of-00002.safetensors"), as Hugging Face repositories lay them out.
import { CheckpointError } from '../../../gpu/errors';

export interface CheckpointFiles {
  /** Shown in messages and used as the model's name: a folder path or the picked folder's name. */
  label: string;
  /** Base names of every file available. */
  list(): string[];
  has(name: string): boolean;
  /** The whole file. */
  read(name: string): Promise<Uint8Array>;
  /** Bytes [start, end) of a file, so multi-GB weights are read tensor by tensor instead of in one
   * allocation. May return fewer bytes than asked when the file is shorter (a truncated file). */
  readRange?(name: string, start: number, end: number): Promise<Uint8Array>;
  /** File size in bytes, when known without reading the file. */
  size?(name: string): Promise<number>;
}

/** Loading progress: bytes of tensor data read so far out of the total, and the file being read. */
export type ProgressFn = (bytesRead: number, totalBytes: number, file: string) => void;

/** The part of a path after its last '/' (or '\\'). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

function missing(label: string, name: string, available: string[]): Error {
  return new CheckpointError(`${label}: no file named ${name}. Files present: ${available.length ? available.join(', ') : '(none)'}.`, { file: name });
}

/**
 * Files the user picked in the browser. A folder pick gives paths in webkitRelativePath
 * ("Llama-3.2-1B/config.json", "Llama-3.2-1B/original/params.json"): a name resolves to the
 * shallowest file with that base name, and two equally shallow ones in different folders are an
 * error (the user picked a folder holding more than one model).
 */
export function browserFiles(files: File[] | FileList, paths?: readonly string[]): CheckpointFiles {
  const all = Array.from(files);
  // A File posted to a worker may lose webkitRelativePath: the sender can pass the paths along.
  const given = new Map<File, string>(paths ? all.map((f, i) => [f, paths[i]] as [File, string]).filter(([, p]) => !!p) : []);
  const byName = new Map<string, File[]>();
  for (const f of all) {
    const list = byName.get(f.name) ?? [];
    list.push(f);
    byName.set(f.name, list);
  }
  const pathOf = (f: File) => given.get(f) || (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
  const depth = (f: File) => pathOf(f).split('/').length;
  const tops = new Set(all.map((f) => pathOf(f).split('/')).filter((p) => p.length > 1).map((p) => p[0]));
  const label = tops.size === 1 ? [...tops][0] : all.length === 1 ? all[0].name : 'selected files';

  function pick(name: string): File {
    const candidates = byName.get(name);
    if (!candidates) throw missing(label, name, [...byName.keys()].sort());
    const shallowest = Math.min(...candidates.map(depth));
    const top = candidates.filter((f) => depth(f) === shallowest);
    if (top.length > 1) {
      throw new CheckpointError(
        `${label}: ${top.length} files are named ${name} (${top.map(pathOf).join(', ')}). ` +
          `Pick the folder of one model only.`,
        { file: name },
      );
    }
    return top[0];
  }

  return {
    label,
    list: () => [...byName.keys()].sort(),
    has: (name) => byName.has(name),
    read: async (name) => new Uint8Array(await pick(name).arrayBuffer()),
    readRange: async (name, start, end) => new Uint8Array(await pick(name).slice(start, end).arrayBuffer()),
    size: async (name) => pick(name).size,
  };
}

/** Files held in memory: for tests, and for checkpoints fetched over the network. */
export function memoryFiles(label: string, files: Record<string, Uint8Array | string>): CheckpointFiles {
  const enc = new TextEncoder();
  const bytes = new Map<string, Uint8Array>(
    Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? enc.encode(v) : v]),
  );
  const get = (name: string) => {
    const b = bytes.get(name);
    if (!b) throw missing(label, name, [...bytes.keys()].sort());
    return b;
  };
  return {
    label,
    list: () => [...bytes.keys()].sort(),
    has: (name) => bytes.has(name),
    read: async (name) => get(name),
    readRange: async (name, start, end) => get(name).slice(start, end),
    size: async (name) => get(name).length,
  };
}
