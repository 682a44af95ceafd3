// Where a checkpoint comes from, as plain data that can be posted to the engine's worker
// (CheckpointFiles has function members and cannot be). Each side rebuilds CheckpointFiles from it.
import { browserFiles, type CheckpointFiles } from '../model/loader/files';
import { urlFolder } from './url-files';

export type CheckpointSource =
  /** A folder served over HTTP with a files.json manifest (public/models/<name>/). */
  | { kind: 'url'; base: string; label: string }
  /** Files the user picked; `path` is the file's webkitRelativePath (or its name), passed along
   * because a File posted to a worker need not keep webkitRelativePath. */
  | { kind: 'files'; label: string; files: { path: string; file: File }[] };

export function pickedSource(list: FileList | File[]): CheckpointSource {
  const all = Array.from(list);
  const files = all.map((file) => ({ file, path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name }));
  return { kind: 'files', label: browserFiles(all).label, files };
}

export async function checkpointFiles(source: CheckpointSource): Promise<CheckpointFiles> {
  if (source.kind === 'url') return urlFolder(source.base, source.label);
  return browserFiles(source.files.map((f) => f.file), source.files.map((f) => f.path));
}
