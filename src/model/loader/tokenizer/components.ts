// Shared pieces of tokenizer.json's component objects: the {"String": ...} / {"Regex": ...}
// pattern form and errors for component types this tokenizer does not implement.
import { onigurumaRegExp } from './oniguruma-regex';

export type Json = Record<string, unknown>;

export function unsupportedComponent(kind: string, type: unknown, supported: string[]): Error {
  return new Error(`tokenizer.json: ${kind} type ${JSON.stringify(type)} is not supported (supported: ${supported.join(', ')}).`);
}

/** The list under a Sequence component's key (absent: empty), or an error naming it. */
export function componentList(j: Json, key: string, kind: string): unknown[] {
  const v = j[key] ?? [];
  if (!Array.isArray(v)) throw new Error(`tokenizer.json: ${kind} Sequence "${key}" must be a list, got ${JSON.stringify(v)}.`);
  return v;
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** A global Unicode RegExp for a {"String": "..."} (literal) or {"Regex": "..."} (Oniguruma) pattern. */
export function patternRegExp(pattern: unknown, where: string): RegExp {
  const p = pattern as { String?: unknown; Regex?: unknown } | null;
  if (p && typeof p.String === 'string') return new RegExp(escapeRegExp(p.String), 'gu');
  if (p && typeof p.Regex === 'string') return onigurumaRegExp(p.Regex);
  throw new Error(`tokenizer.json: ${where} pattern must be {"String": ...} or {"Regex": ...}, got ${JSON.stringify(pattern)}.`);
}

/** Replaces every match of a pattern; uses a function so "$" in the content stays literal. */
export function replaceAll(text: string, re: RegExp, content: string): string {
  re.lastIndex = 0;
  return text.replace(re, () => content);
}
