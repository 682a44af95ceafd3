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
