// Our tokenizer (src/model/loader/tokenizer/) beside @huggingface/tokenizers (Hugging Face's
// pure-JS tokenizers) on every tokenizer fixture: the six parity families (ids the Rust library
// produced), the hand-made tokenizers with hand-worked cases, and the two tokenizers the studio
// ships (public/models/*), where no library ids exist and the two implementations are compared
// with each other. Used by tests/unit/tokenizer-hf-compare.test.ts (parity facts) and
// scripts/tokenizer-compare.mjs (the table, speed and bundle size).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { toInt32 } from '../../src/model/loader/dtypes';
import { entryToTensor, parseSafetensors } from '../../src/model/loader/safetensors-format';
import { loadTokenizer, type Tokenizer } from '../../src/model/loader/tokenizer/tokenizer';

const root = new URL('../../', import.meta.url);
export const repoPath = (rel: string) => new URL(rel, root);
const readJson = (rel: string) => JSON.parse(readFileSync(repoPath(rel), 'utf8'));

/** The operations compared: encode to ids, decode ids (with or without special tokens). */
export interface Impl {
  encode(text: string, addSpecialTokens: boolean): number[];
  decode(ids: number[], skipSpecialTokens: boolean): string;
}

export function ours(json: unknown): Impl {
  const t: Tokenizer = loadTokenizer(json);
  return {
    encode: (text, add) => t.encode(text, { addSpecialTokens: add }),
    decode: (ids, skip) => t.decode(ids, { skipSpecialTokens: skip }),
  };
}

/**
 * @huggingface/tokenizers as the Rust library behaves: no transformers-style
 * clean_up_tokenization_spaces (its default is on without a tokenizer_config.json saying
 * otherwise), so decode is the tokenizer.json decoder alone, as ours and the Rust library do.
 */
export function hf(json: unknown): Impl {
  const t = new HfTokenizer(json as object, { clean_up_tokenization_spaces: false });
  return {
    encode: (text, add) => t.encode(text, { add_special_tokens: add }).ids,
    decode: (ids, skip) => t.decode(ids, { skip_special_tokens: skip }),
  };
}

/** One thing to check: text -> ids (expected from the library or by hand, else ours) and ids -> text. */
export interface Case {
  text: string;
  addSpecialTokens: boolean;
  /** Expected ids: from the Rust library (parity) or worked out by hand; absent: compare with ours. */
  ids?: number[];
  /** Expected decode(ids) (no skipping); absent: compare with ours. */
  decoded?: string;
  /** Only the first ids.length ids are expected (the parity reference keeps a prefix). */
  prefix?: boolean;
}

export interface Fixture {
  name: string;
  file: string;
  /** Where the expected ids come from. */
  source: 'Rust library' | 'by hand' | 'ours (no library ids)';
  cases: Case[];
}

function referenceIds(rel: string, name: string): number[] {
  const b = readFileSync(repoPath(rel));
  const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const h = parseSafetensors(bytes, rel);
  const e = h.entries.find((x) => x.name === name);
  if (!e) throw new Error(`${rel} has no ${name}`);
  return Array.from(toInt32(entryToTensor(e, bytes.slice(h.dataStart + e.begin, h.dataStart + e.end), rel)));
}

/**
 * Texts where JavaScript and Oniguruma (the Rust library's regex engine) disagree, or where
 * tokenizers special-case things: U+0085 and U+FEFF (Oniguruma's \s has the first, JavaScript's the
 * second), a byte-order mark at the start of a byte run, runs of spaces, CJK, emoji, combining marks.
 */
export const PROBES = [
  '  \u0085Z',
  '< \u00851',
  '!\u0085',
  '  \ufeff ',
  'x\ufeffy',
  '\ufeffé\n',
  'hello  world',
  "Hello, world! It's 2024.\n\n  def f(x):\n\treturn x  # ok\r\n",
  '日本語のテキスト 🙂 e\u0301 \u00a0x',
  'a , b . c ?',
  ' ',
];

/** The six families: the Rust library's ids for tokenizer-text.txt and a prefix for text.txt, plus probes. */
export function parityFixtures(): Fixture[] {
  const dir = repoPath('tests/fixtures/parity/');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => existsSync(new URL(`${d}/tokenizer.json`, dir)))
    .sort()
    .map((d) => {
      const at = (f: string) => `tests/fixtures/parity/${d}/${f}`;
      const text = readFileSync(repoPath(at('tokenizer-text.txt')), 'utf8');
      const modelText = readFileSync(repoPath(at('text.txt')), 'utf8');
      return {
        name: `parity/${d}`,
        file: at('tokenizer.json'),
        source: 'Rust library' as const,
        cases: [
          { text, addSpecialTokens: true, ids: referenceIds(at('reference.safetensors'), 'tok.ids') },
          { text: modelText, addSpecialTokens: true, ids: referenceIds(at('reference.safetensors'), 'input_ids'), prefix: true },
          ...PROBES.map((p) => ({ text: p, addSpecialTokens: false })),
        ],
      };
    });
}

/** The hand-made tokenizers: tests/fixtures/tokenizers/*.cases.json, plus probes on those without cases. */
export function handFixtures(): Fixture[] {
  const dir = 'tests/fixtures/tokenizers/';
  const out: Fixture[] = [];
  const files = readdirSync(repoPath(dir)).sort();
  const withCases = new Set<string>();
  for (const f of files.filter((f) => f.endsWith('.cases.json'))) {
    const spec = readJson(dir + f) as { tokenizer: string; cases: Array<{ text: string; ids: number[]; add_special_tokens?: boolean; decoded?: string }> };
    withCases.add(spec.tokenizer);
    out.push({
      name: `tokenizers/${spec.tokenizer.replace(/\.json$/, '')}`,
      file: dir + spec.tokenizer,
      source: 'by hand',
      cases: spec.cases.map((c) => ({ text: c.text, addSpecialTokens: c.add_special_tokens !== false, ids: c.ids, decoded: c.decoded })),
    });
  }
  for (const f of files.filter((f) => f.endsWith('.json') && !f.endsWith('.cases.json') && !withCases.has(f))) {
    out.push({ name: `tokenizers/${f.replace(/\.json$/, '')}`, file: dir + f, source: 'ours (no library ids)', cases: PROBES.map((p) => ({ text: p, addSpecialTokens: false })) });
  }
  return out;
}

/** The tokenizers the studio ships, on the sample texts and the probes. */
export function shippedFixtures(): Fixture[] {
  const samples = readdirSync(repoPath('public/texts/')).sort().map((f) => readFileSync(repoPath(`public/texts/${f}`), 'utf8'));
  return ['public/models/default/tokenizer.json', 'public/models/fixture-llama3/tokenizer.json']
    .filter((f) => existsSync(repoPath(f)))
    .map((f) => ({
      name: f.replace(/^public\/models\/|\/tokenizer\.json$/g, ''),
      file: f,
      source: 'ours (no library ids)' as const,
      cases: [...samples.map((s) => ({ text: s, addSpecialTokens: true })), ...PROBES.map((p) => ({ text: p, addSpecialTokens: false }))],
    }));
}

export const allFixtures = () => [...parityFixtures(), ...handFixtures(), ...shippedFixtures()];

export interface Outcome {
  /** Loaded, or the error it gave. */
  error?: string;
  /** Cases whose ids are the expected ones. */
  idsOk: number;
  /** Cases whose decode is the expected one. */
  decodeOk: number;
  total: number;
  /** The first failing case: input, expected, got. */
  firstFailure?: string;
}

/** A short JSON string with the invisible characters (U+0085, U+FEFF, ...) written as escapes. */
const show = (s: string) =>
  JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s).replace(/[\u007f-\u00a0\u2000-\u200f\u2028-\u202f\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function firstDiff(got: number[], want: number[], prefix: boolean): number {
  const g = prefix ? got.slice(0, want.length) : got;
  let i = 0;
  while (i < Math.min(g.length, want.length) && g[i] === want[i]) i++;
  return i === g.length && i === want.length ? -1 : i;
}

/**
 * Runs `impl` on a fixture's cases. Expected ids and decodes are the fixture's where it has them,
 * else `reference`'s (ours) outputs. Decode is checked on the expected ids, with special tokens
 * and without.
 */
export function run(fx: Fixture, make: (json: unknown) => Impl, reference?: Impl): Outcome {
  const json = readJson(fx.file);
  let impl: Impl;
  try {
    impl = make(json);
  } catch (e) {
    return { error: (e as Error).message, idsOk: 0, decodeOk: 0, total: fx.cases.length };
  }
  const o: Outcome = { idsOk: 0, decodeOk: 0, total: fx.cases.length };
  const fail = (msg: string) => (o.firstFailure ??= msg);
  for (const c of fx.cases) {
    const want = c.ids ?? reference?.encode(c.text, c.addSpecialTokens);
    let got: number[] | string;
    try {
      got = impl.encode(c.text, c.addSpecialTokens);
    } catch (e) {
      got = `throws ${(e as Error).message}`;
    }
    if (want === undefined) throw new Error(`${fx.name}: a case without expected ids needs a reference`);
    const i = typeof got === 'string' ? 0 : firstDiff(got, want, c.prefix === true);
    if (i < 0) o.idsOk++;
    else fail(`encode(${show(c.text)}${c.addSpecialTokens ? '' : ', no specials'}): expected ${JSON.stringify(want.slice(i, i + 6))} at ${i}, got ${typeof got === 'string' ? got : JSON.stringify(got.slice(i, i + 6))}`);
    const ids = want;
    let decOk = true;
    for (const skip of [false, true]) {
      const wantText = !skip && c.decoded !== undefined ? c.decoded : reference?.decode(ids, skip);
      if (wantText === undefined) continue;
      let text: string;
      try {
        text = impl.decode(ids, skip);
      } catch (e) {
        text = `throws ${(e as Error).message}`;
      }
      if (text !== wantText) {
        decOk = false;
        fail(`decode(${JSON.stringify(ids.slice(0, 8))}${ids.length > 8 ? '…' : ''}${skip ? ', skip specials' : ''}): expected ${show(wantText)}, got ${show(text)}`);
      }
    }
    if (decOk) o.decodeOk++;
  }
  return o;
}
