// tokenizer.json "pre_tokenizer": splits normalized text into the words BPE runs on, following the
// Rust library's semantics (split behaviours, ByteLevel's prefix space and byte mapping, Metaspace).
import { toByteLevel } from './byte-level';
import { componentList, patternRegExp, unsupportedComponent, type Json } from './components';
import { matchRuns, onigurumaRegExp } from './oniguruma-regex';

/** A piece of text; `atStart` when it begins at offset 0 of the encoded text (Metaspace "first"). */
export interface Piece {
  text: string;
  atStart: boolean;
}

export type PreTokenizer = (pieces: Piece[]) => Piece[];

/** GPT-2's word pattern, used by ByteLevel when use_regex is true. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
const SPLIT_BEHAVIORS: SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

/** Splits `text` at the matches of `re`, keeping or merging matches as the Rust library does. */
export function splitText(text: string, re: RegExp, behavior: SplitBehavior, invert = false): string[] {
  const runs = matchRuns(re, text).map(([a, b, m]) => [a, b, invert ? !m : m] as [number, number, boolean]);
  const spans: Array<[number, number]> = [];
  let prevMatch = false;
  switch (behavior) {
    case 'Removed':
      for (const [a, b, m] of runs) if (!m) spans.push([a, b]);
      break;
    case 'Isolated':
      for (const [a, b] of runs) spans.push([a, b]);
      break;
    case 'MergedWithPrevious':
      for (const [a, b, m] of runs) {
        if (m && !prevMatch && spans.length) spans[spans.length - 1][1] = b;
        else spans.push([a, b]);
        prevMatch = m;
      }
      break;
    case 'MergedWithNext':
      for (let i = runs.length - 1; i >= 0; i--) {
        const [a, b, m] = runs[i];
        if (m && !prevMatch && spans.length) spans[spans.length - 1][0] = a;
        else spans.push([a, b]);
        prevMatch = m;
      }
      spans.reverse();
      break;
    case 'Contiguous':
      for (const [a, b, m] of runs) {
        if (m === prevMatch && spans.length) spans[spans.length - 1][1] = b;
        else spans.push([a, b]);
        prevMatch = m;
      }
      break;
    default:
      throw unsupportedComponent('Split behavior', behavior, SPLIT_BEHAVIORS);
  }
  return spans.filter(([a, b]) => b > a).map(([a, b]) => text.slice(a, b));
}

/** Applies a string splitter to every piece; only the first part of an at-start piece stays at start. */
function eachPiece(f: (p: Piece) => string[]): PreTokenizer {
  return (pieces) => pieces.flatMap((p) => f(p).map((text, i) => ({ text, atStart: p.atStart && i === 0 })));
}

const SUPPORTED = ['Sequence', 'ByteLevel', 'Split', 'Metaspace', 'Whitespace', 'WhitespaceSplit', 'Digits'];

export function buildPreTokenizer(json: unknown): PreTokenizer {
  if (json === null || json === undefined) return (pieces) => pieces;
  const j = json as Json;
  switch (j.type) {
    case 'Sequence': {
      const parts = componentList(j, 'pretokenizers', 'pre_tokenizer').map(buildPreTokenizer);
      return (pieces) => parts.reduce((acc, f) => f(acc), pieces);
    }
    case 'ByteLevel': {
      const prefix = j.add_prefix_space === true;
      const re = j.use_regex === false ? null : onigurumaRegExp(GPT2_PATTERN);
      return eachPiece(({ text }) => {
        const t = prefix && !text.startsWith(' ') ? ' ' + text : text;
        return (re ? splitText(t, re, 'Isolated') : [t]).map(toByteLevel);
      });
    }
    case 'Split': {
      const re = patternRegExp(j.pattern, 'Split pre-tokenizer');
      const behavior = j.behavior as SplitBehavior;
      // Checked here, at load time, not at the first encode.
      if (!SPLIT_BEHAVIORS.includes(behavior)) throw unsupportedComponent('Split behavior', behavior, SPLIT_BEHAVIORS);
      const invert = j.invert === true;
      return eachPiece(({ text }) => splitText(text, re, behavior, invert));
    }
    case 'Metaspace': {
      const rep = String(j.replacement ?? '▁');
      // Older files say add_prefix_space: bool; newer ones prepend_scheme: always | first | never.
      const scheme = (j.prepend_scheme as string | undefined) ?? (j.add_prefix_space === false ? 'never' : 'always');
      const split = j.split !== false;
      const spaceRe = / /g;
      const repRe = new RegExp(rep.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), 'gu');
      return eachPiece(({ text, atStart }) => {
        let t = text.replace(spaceRe, rep);
        if ((scheme === 'always' || (scheme === 'first' && atStart)) && !t.startsWith(rep)) t = rep + t;
        return split ? splitText(t, repRe, 'MergedWithNext') : [t];
      });
    }
    case 'Whitespace': {
      const re = /[\p{L}\p{M}\p{N}\p{Pc}]+|[^\p{L}\p{M}\p{N}\p{Pc}\s]+/gu;
      return eachPiece(({ text }) => splitText(text, re, 'Removed', true));
    }
    case 'WhitespaceSplit': {
      const re = /\s+/gu;
      return eachPiece(({ text }) => splitText(text, re, 'Removed'));
    }
    case 'Digits': {
      const re = /\p{N}/gu;
      const individual = j.individual_digits === true;
      return eachPiece(({ text }) => splitText(text, re, individual ? 'Isolated' : 'Contiguous'));
    }
    default:
      throw unsupportedComponent('pre_tokenizer', j.type, SUPPORTED);
  }
}
