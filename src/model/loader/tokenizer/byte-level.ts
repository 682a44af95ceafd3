// GPT-2's byte-to-unicode table: every byte gets a printable character so byte-level BPE can work
// on strings. Printable Latin-1 bytes map to themselves; the other 68 bytes (controls, space, ...)
// map to U+0100.. in byte order (so space 0x20 becomes 'Ġ' U+0120, newline 0x0A 'Ċ' U+010A).

export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep(b) ? b : 256 + n++);
  return out;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();

/** The UTF-8 bytes of `text`, each written as its byte-level character. */
export function toByteLevel(text: string): string {
  const bytes = encoder.encode(text);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

/** Bytes of a byte-level token; undefined when a character is not in the table (e.g. a token
 * that was never byte-level encoded), so the caller can fall back to its UTF-8 bytes. */
export function fromByteLevel(token: string): number[] | undefined {
  const out: number[] = [];
  for (const c of token) {
    const b = CHAR_TO_BYTE.get(c);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return out;
}
