// A checkpoint served over HTTP (the bundled model in public/models/): the same CheckpointFiles
// the loader reads from a folder or from picked files.
import type { CheckpointFiles } from '../model/loader/files';

export async function urlFolder(base: string, label: string): Promise<CheckpointFiles> {
  const root = base.endsWith('/') ? base : base + '/';
  const manifest = await fetch(root + 'files.json');
  if (!manifest.ok) throw new Error(`${label}: ${root}files.json not found (HTTP ${manifest.status}); a served model folder lists its files there.`);
  const names = (await manifest.json()) as string[];
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new Error(`${label}: ${root}files.json must be a JSON array of file names.`);
  const get = async (name: string, range?: [number, number]) => {
    if (!names.includes(name)) throw new Error(`${label}: no file named ${name}. Files present: ${names.join(', ')}.`);
    const res = await fetch(root + name, range ? { headers: { Range: `bytes=${range[0]}-${range[1] - 1}` } } : undefined);
    if (!res.ok) throw new Error(`${label}: could not fetch ${name} (HTTP ${res.status}).`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    // A server that ignores Range sends the whole file: cut the range out of it.
    return range && res.status !== 206 ? bytes.subarray(range[0], range[1]) : bytes;
  };
  return {
    label,
    list: () => [...names],
    has: (name) => names.includes(name),
    read: (name) => get(name),
    readRange: (name, start, end) => get(name, [start, end]),
  };
}
