// tokenizer.json "decoder": token strings back to text, per the Rust library's decode_chain
// (each decoder maps a list of token strings to a list of strings; the result is joined).
import { fromByteLevel } from './byte-level';
import { componentList, patternRegExp, replaceAll, unsupportedComponent, type Json } from './components';

export type Decoder = (tokens: string[]) => string[];

const SUPPORTED = ['Sequence', 'ByteLevel', 'Replace', 'ByteFallback', 'Fuse', 'Strip', 'Metaspace'];
const utf8 = new TextEncoder();
// ignoreBOM: a U+FEFF in the text is a character to keep, not a byte-order mark to drop.
const lossy = new TextDecoder('utf-8', { ignoreBOM: true }); // invalid bytes -> U+FFFD, like String::from_utf8_lossy
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function byteOfToken(t: string): number | undefined {
  // "<0xNN>" exactly, as the library's ByteFallback decoder checks.
  if (t.length !== 6 || !t.startsWith('<0x') || !t.endsWith('>')) return undefined;
  const hex = t.slice(3, 5);
  return /^[0-9a-fA-F]{2}$/.test(hex) ? parseInt(hex, 16) : undefined;
}

function stripChars(t: string, c: string, start: number, stop: number): string {
  const chars = [...t];
  let a = 0, b = chars.length;
  while (a < start && a < b && chars[a] === c) a++;
  let removed = 0;
  while (removed < stop && b > a && chars[b - 1] === c) {
    b--;
    removed++;
  }
  return chars.slice(a, b).join('');
}

export function buildDecoder(json: unknown): Decoder | null {
  if (json === null || json === undefined) return null;
  const j = json as Json;
  switch (j.type) {
    case 'Sequence': {
      const parts = componentList(j, 'decoders', 'decoder').map((d) => buildDecoder(d)!);
      return (tokens) => parts.reduce((acc, f) => f(acc), tokens);
    }
    case 'ByteLevel':
      return (tokens) => {
        const bytes: number[] = [];
        for (const t of tokens) {
          const b = fromByteLevel(t);
          if (b) for (const x of b) bytes.push(x);
          else for (const x of utf8.encode(t)) bytes.push(x); // not byte-level (e.g. an added token): its own UTF-8
        }
        return [lossy.decode(new Uint8Array(bytes))];
      };
    case 'Replace': {
      const re = patternRegExp(j.pattern, 'Replace decoder');
      const content = String(j.content);
      return (tokens) => tokens.map((t) => replaceAll(t, re, content));
    }
    case 'ByteFallback':
      return (tokens) => {
        const out: string[] = [];
        let pending: number[] = [];
        const flush = () => {
          if (!pending.length) return;
          try {
            out.push(strict.decode(new Uint8Array(pending)));
          } catch {
            for (let i = 0; i < pending.length; i++) out.push('\uFFFD'); // one per byte, like the library
          }
          pending = [];
        };
        for (const t of tokens) {
          const b = byteOfToken(t);
          if (b !== undefined) pending.push(b);
          else {
            flush();
            out.push(t);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const c = String(j.content), start = Number(j.start ?? 0), stop = Number(j.stop ?? 0);
      return (tokens) => tokens.map((t) => stripChars(t, c, start, stop));
    }
    case 'Metaspace': {
      const rep = String(j.replacement ?? '▁');
      const scheme = (j.prepend_scheme as string | undefined) ?? (j.add_prefix_space === false ? 'never' : 'always');
      return (tokens) =>
        tokens.map((t, i) => {
          const s = t.split(rep).join(' ');
          return i === 0 && scheme !== 'never' && s.startsWith(' ') ? s.slice(1) : s;
        });
    }
    default:
      throw unsupportedComponent('decoder', j.type, SUPPORTED);
  }
}
