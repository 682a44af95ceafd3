// tokenizer.json "normalizer": applied to each stretch of text between added tokens before
// pre-tokenization (Llama 2: Prepend("▁") then Replace(" ", "▁"); Qwen: NFC).
import { componentList, patternRegExp, replaceAll, unsupportedComponent, type Json } from './components';

export type Normalizer = (text: string) => string;

const SUPPORTED = ['Sequence', 'Prepend', 'Replace', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'Strip', 'StripAccents'];

export function buildNormalizer(json: unknown): Normalizer {
  if (json === null || json === undefined) return (s) => s;
  const j = json as Json;
  switch (j.type) {
    case 'Sequence': {
      const parts = componentList(j, 'normalizers', 'normalizer').map(buildNormalizer);
      return (s) => parts.reduce((acc, f) => f(acc), s);
    }
    case 'Prepend': {
      const prefix = String(j.prepend);
      return (s) => (s.length ? prefix + s : s); // like the library: nothing is prepended to ''
    }
    case 'Replace': {
      const re = patternRegExp(j.pattern, 'Replace normalizer');
      const content = String(j.content);
      return (s) => replaceAll(s, re, content);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = j.type;
      return (s) => s.normalize(form);
    }
    case 'Lowercase':
      return (s) => s.toLowerCase();
    case 'Strip': {
      const left = j.strip_left !== false, right = j.strip_right !== false;
      return (s) => (left && right ? s.trim() : left ? s.trimStart() : right ? s.trimEnd() : s);
    }
    case 'StripAccents':
      return (s) => s.normalize('NFD').replace(/\p{Mn}/gu, '');
    default:
      throw unsupportedComponent('normalizer', j.type, SUPPORTED);
  }
}
