// Tiny flag parser: `--name value` and `--flag`; unknown flags are errors naming the verb's flags.
export interface FlagSpec {
  [name: string]: { kind: 'string' | 'number' | 'boolean'; help: string; required?: boolean };
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseFlags(verb: string, argv: readonly string[], spec: FlagSpec): Record<string, string | number | boolean | undefined> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`${verb}: unexpected argument "${a}". Flags: ${Object.keys(spec).map((k) => `--${k}`).join(' ')}`);
    const name = a.slice(2);
    const s = spec[name];
    if (!s) throw new UsageError(`${verb}: unknown flag --${name}. Flags: ${Object.keys(spec).map((k) => `--${k}`).join(' ')}`);
    if (s.kind === 'boolean') {
      out[name] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${verb}: --${name} needs a value (${s.help}).`);
    if (s.kind === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`${verb}: --${name} must be a number, got "${v}".`);
      out[name] = n;
    } else out[name] = v;
  }
  for (const [name, s] of Object.entries(spec)) {
    if (s.required && out[name] === undefined) throw new UsageError(`${verb}: --${name} is required (${s.help}).`);
  }
  return out;
}

export function usage(verb: string, summary: string, spec: FlagSpec): string {
  const lines = Object.entries(spec).map(([k, s]) => `  --${k}${s.kind === 'boolean' ? '' : ' <' + s.kind + '>'}${s.required ? '' : ' (optional)'}  ${s.help}`);
  return `sa-studio ${verb}: ${summary}\n${lines.join('\n')}`;
}

/** The flags every model verb starts with; a verb whose flag means more says so in its own. */
export const MODEL_FLAGS: FlagSpec = {
  model: { kind: 'string', required: true, help: 'checkpoint folder or "default"' },
  text: { kind: 'string', required: true, help: 'UTF-8 text file' },
  'max-tokens': { kind: 'number', help: 'keep only the first N tokens' },
};

export const HELP_FLAG: FlagSpec = { help: { kind: 'boolean', help: 'print this help' } };

/** Prints the verb's help when argv asks for it; true when it did (the verb returns 0). */
export function printedHelp(argv: readonly string[], verb: string, summary: string, spec: FlagSpec): boolean {
  if (!argv.includes('--help')) return false;
  console.log(usage(verb, summary, spec));
  return true;
}

/** A text table: columns padded to their widest cell, the `left` ones left-aligned (names), the
 * others right-aligned (numbers), a dashed rule under the head; trailing blanks trimmed. */
export function table(head: string[], rows: string[][], left: readonly number[] = [0]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (left.includes(i) ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)];
}
