// Reads a JSON file of a checkpoint with errors that name the file and say what is wrong.
import type { CheckpointFiles } from './files';

export async function readJsonFile(files: CheckpointFiles, name: string, why?: string): Promise<unknown> {
  if (!files.has(name)) {
    throw new Error(`${files.label}: ${name} is missing${why ? ` (${why})` : ''}. Files present: ${files.list().join(', ') || '(none)'}.`);
  }
  const bytes = await files.read(name);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${files.label}/${name} is not UTF-8 text: the file is corrupt or not JSON.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const hint = text.length === 0 ? ' The file is empty.' : text.startsWith('version https://git-lfs') ? ' It is a Git LFS pointer: run `git lfs pull` to fetch the real file.' : '';
    throw new Error(`${files.label}/${name} is not valid JSON: ${(e as Error).message}.${hint}`);
  }
}
