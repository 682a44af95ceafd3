// tokenizer.json "added_tokens": special tokens (<|begin_of_text|>, <s>, ...) and other added
// tokens are cut out of the text before normalization and pre-tokenization, leftmost-longest, like
// the library's AddedVocabulary. Tokens with normalized=false are matched on the raw text, those
// with normalized=true on each normalized stretch.

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

/** A stretch of text, or an added token's id. */
export type Segment = { text: string; id?: undefined } | { id: number; text?: undefined };

export function parseAddedTokens(json: unknown): AddedToken[] {
  if (json === undefined || json === null) return [];
  if (!Array.isArray(json)) throw new Error('tokenizer.json: "added_tokens" must be a list.');
  return json.map((t, i) => {
    const o = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    if (typeof o.content !== 'string' || !Number.isInteger(o.id)) {
      throw new Error(`tokenizer.json: added_tokens[${i}] needs "id" (integer) and "content" (string), got ${JSON.stringify(t)}.`);
    }
    const special = o.special === true;
    return {
      id: o.id as number,
      content: o.content,
      special,
      normalized: o.normalized === undefined ? !special : o.normalized === true,
      lstrip: o.lstrip === true,
      rstrip: o.rstrip === true,
      singleWord: o.single_word === true,
    };
  });
}

const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** Cuts a set of added tokens out of text. */
export class AddedTokenSplitter {
  private re: RegExp | null;
  private tokens: AddedToken[];

  constructor(tokens: AddedToken[]) {
    // Longest first, so alternation (leftmost, first alternative) finds the leftmost-longest match.
    this.tokens = tokens.filter((t) => t.content.length > 0).sort((a, b) => b.content.length - a.content.length);
    if (this.tokens.length === 0) {
      this.re = null;
      return;
    }
    const alts = this.tokens.map((t) => {
      let s = `(${escape(t.content)})`;
      if (t.singleWord) s = `(?<![\\p{L}\\p{N}_])${s}(?![\\p{L}\\p{N}_])`;
      if (t.lstrip) s = `\\s*${s}`;
      if (t.rstrip) s = `${s}\\s*`;
      return s;
    });
    this.re = new RegExp(alts.join('|'), 'gu');
  }

  split(text: string): Segment[] {
    if (!this.re || text.length === 0) return text.length ? [{ text }] : [];
    const out: Segment[] = [];
    let last = 0;
    this.re.lastIndex = 0;
    for (let m = this.re.exec(text); m !== null; m = this.re.exec(text)) {
      const k = m.findIndex((g, i) => i > 0 && g !== undefined) - 1;
      if (m.index > last) out.push({ text: text.slice(last, m.index) });
      out.push({ id: this.tokens[k].id });
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push({ text: text.slice(last) });
    return out;
  }
}
