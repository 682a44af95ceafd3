// Reads a JSON file of a checkpoint with errors that name the file and say what is wrong.
import type { CheckpointFiles } from './files';
import { CheckpointError } from '../../../gpu/errors';

export async function readJsonFile(files: CheckpointFiles, name: string, why?: string): Promise<unknown> {
  const file = `${files.label}/${name}`;
  if (!files.has(name)) {
    throw new CheckpointError(`${files.label}: ${name} is missing${why ? ` (${why})` : ''}. Files present: ${files.list().join(', ') || '(none)'}.`, { file });
  }
  const bytes = await files.read(name);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointError(`${files.label}/${name} is not UTF-8 text: the file is corrupt or not JSON. Download it again.`, { file });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const hint = text.length === 0 ? ' The file is empty.' : text.startsWith('version https://git-lfs') ? ' It is a Git LFS pointer: run `git lfs pull` to fetch the real file.' : ' The file is truncated or corrupt: download it again.';
    throw new CheckpointError(`${files.label}/${name} is not valid JSON: ${(e as Error).message}.${hint}`, { file });
  }
}
