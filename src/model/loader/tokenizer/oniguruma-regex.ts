// tokenizer.json regexes are Oniguruma patterns (the Rust `tokenizers` library runs them with
// onig). JavaScript's RegExp differs in ways that change tokenization, so patterns are rewritten
// before use (with the u flag, so \p{L} works and '.' matches code points):
//  - inline case-insensitive groups (?i:'s|'t|...) do not exist in JS: their letters become
//    [sS]-style classes;
//  - \s in Oniguruma is Unicode White_Space-like: it includes U+0085 and excludes U+FEFF, unlike JS;
//    \s/\S are replaced by the explicit Oniguruma set;
//  - \h (hex digit), \A, \z, \x{...} and escaped punctuation that u-mode JS rejects are rewritten;
//  - possessive quantifiers and atomic groups have no JS form and are reported as unsupported.

/** Oniguruma's \s for Unicode strings: \t \n \v \f \r, U+0085, and the Zs/Zl/Zp characters. */
export const ONIG_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const GENERAL_CATEGORIES = new Set([
  'L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'LC', 'M', 'Mn', 'Mc', 'Me', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'S', 'Sm', 'Sc', 'Sk', 'So',
  'Z', 'Zs', 'Zl', 'Zp', 'C', 'Cc', 'Cf', 'Cs', 'Co', 'Cn',
]);
const BINARY_PROPERTIES: Record<string, string> = { Alpha: 'Alphabetic', Alphabetic: 'Alphabetic', White_Space: 'White_Space', Space: 'White_Space' };

/** Characters u-mode JS allows after a backslash as themselves. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function unsupported(pattern: string, what: string): Error {
  return new Error(`tokenizer.json regex ${JSON.stringify(pattern)}: ${what} is not supported in JavaScript and has no rewrite here.`);
}

function caseVariants(c: string): string {
  const lo = c.toLowerCase(), up = c.toUpperCase();
  const set = new Set([c, lo, up].filter((x) => [...x].length === 1));
  return [...set].join('');
}

/** Translates an Oniguruma pattern to JS RegExp source (to be compiled with the u flag). */
export function translateOniguruma(pattern: string): string {
  let out = '';
  let inClass = false;
  const ci: boolean[] = [false]; // case-insensitivity of each open group; the last is current
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const insensitive = ci[ci.length - 1];
    if (c === '\\') {
      const n = chars[++i];
      if (n === undefined) throw unsupported(pattern, 'a trailing backslash');
      if (n === 's') out += inClass ? ONIG_SPACE : `[${ONIG_SPACE}]`;
      else if (n === 'S') out += inClass ? '\\S' : `[^${ONIG_SPACE}]`;
      else if (n === 'h') out += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else if (n === 'H') out += inClass ? '\\P{AHex}' : '[^0-9a-fA-F]';
      else if (n === 'd') out += '\\p{Nd}';
      else if (n === 'D') out += '\\P{Nd}';
      else if (n === 'w') out += inClass ? '\\p{L}\\p{M}\\p{N}\\p{Pc}' : '[\\p{L}\\p{M}\\p{N}\\p{Pc}]';
      else if (n === 'W') out += inClass ? '\\W' : '[^\\p{L}\\p{M}\\p{N}\\p{Pc}]';
      else if (n === 'A') out += '^';
      else if (n === 'z') out += '$';
      else if (n === 'Z') out += '(?=\\n?$)';
      else if (n === 'G') throw unsupported(pattern, '\\G');
      else if (n === 'p' || n === 'P') {
        if (chars[i + 1] !== '{') throw unsupported(pattern, `\\${n} without {name}`);
        const close = chars.indexOf('}', i + 2);
        if (close < 0) throw unsupported(pattern, `an unterminated \\${n}{`);
        let name = chars.slice(i + 2, close).join('');
        let neg = n === 'P';
        if (name.startsWith('^')) {
          neg = !neg;
          name = name.slice(1);
        }
        let prop: string;
        if (GENERAL_CATEGORIES.has(name)) prop = name;
        else if (BINARY_PROPERTIES[name]) prop = BINARY_PROPERTIES[name];
        else prop = `Script=${name}`;
        try {
          new RegExp(`\\p{${prop}}`, 'u');
        } catch {
          throw unsupported(pattern, `the property \\p{${name}}`);
        }
        out += `\\${neg ? 'P' : 'p'}{${prop}}`;
        i = close;
      } else if (n === 'x' && chars[i + 1] === '{') {
        const close = chars.indexOf('}', i + 2);
        out += `\\u{${chars.slice(i + 2, close).join('')}}`;
        i = close;
      } else if (/[0-9a-zA-Z]/.test(n)) {
        out += '\\' + n; // \n \r \t \b \B \xHH \uHHHH, backreferences: same meaning in JS
      } else if (JS_SYNTAX.has(n) || (inClass && n === '-')) {
        out += '\\' + n;
      } else {
        out += n; // e.g. \' or \#: Oniguruma allows escaping any punctuation, u-mode JS does not
      }
      continue;
    }
    if (inClass) {
      if (c === '[') throw unsupported(pattern, 'a nested character class ([...[...]...])');
      if (c === ']') inClass = false;
      if (insensitive && c === '-' && out[out.length - 1] !== '[') throw unsupported(pattern, 'a character range inside a case-insensitive group');
      out += insensitive && c !== ']' && c !== '^' ? caseVariants(c) : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (chars[i + 1] === '^') out += chars[++i];
      if (chars[i + 1] === ']') out += '\\' + chars[++i]; // a leading ] is a literal in Oniguruma
      continue;
    }
    if (c === '(') {
      if (chars[i + 1] === '?') {
        // (?i: ... ) / (?-i: ... ) / (?i) / (?> ... )
        const m = /^\(\?([imx]*)(?:-([imx]*))?([:)])/.exec(chars.slice(i, i + 12).join(''));
        if (chars[i + 2] === '>') throw unsupported(pattern, 'an atomic group (?>...)');
        if (m && (m[1] || m[2])) {
          if ((m[1] + (m[2] ?? '')).replace(/i/g, '')) throw unsupported(pattern, `the inline flags (?${m[1]}${m[2] ? '-' + m[2] : ''})`);
          const on = m[1].includes('i') ? true : m[2]?.includes('i') ? false : insensitive;
          if (m[3] === ')') {
            ci[ci.length - 1] = on; // (?i) turns the flag on for the rest of the enclosing group
          } else {
            ci.push(on);
            out += '(?:';
          }
          i += m[0].length - 1;
          continue;
        }
      }
      ci.push(insensitive);
      out += c;
      continue;
    }
    if (c === ')') {
      if (ci.length > 1) ci.pop();
      out += c;
      continue;
    }
    if ((c === '+' || c === '?' || c === '*' || c === '}') && chars[i + 1] === '+') {
      throw unsupported(pattern, `the possessive quantifier ${c}+`);
    }
    out += insensitive ? (caseVariants(c).length > 1 ? `[${caseVariants(c)}]` : c) : c;
  }
  return out;
}

/** A global, Unicode JS RegExp equivalent to an Oniguruma pattern. */
export function onigurumaRegExp(pattern: string): RegExp {
  const src = translateOniguruma(pattern);
  try {
    return new RegExp(src, 'gu');
  } catch (e) {
    throw new Error(`tokenizer.json regex ${JSON.stringify(pattern)} (as JS: ${JSON.stringify(src)}) does not compile: ${(e as Error).message}`);
  }
}

/** Splits `text` into [start, end, isMatch] runs covering it (empty matches skipped). */
export function matchRuns(re: RegExp, text: string): Array<[number, number, boolean]> {
  const runs: Array<[number, number, boolean]> = [];
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      // Advance past the empty match by one code point (u flag semantics).
      const cp = text.codePointAt(re.lastIndex);
      re.lastIndex += cp !== undefined && cp > 0xffff ? 2 : 1;
      if (re.lastIndex > text.length) break;
      continue;
    }
    if (m.index > last) runs.push([last, m.index, false]);
    runs.push([m.index, m.index + m[0].length, true]);
    last = m.index + m[0].length;
  }
  if (last < text.length) runs.push([last, text.length, false]);
  return runs;
}
