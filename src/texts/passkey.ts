// The synthetic passkey-retrieval text (Mohtashami & Jaggi 2023, "Landmark Attention"; used by
// LongLoRA and others): a number hidden at a chosen depth in repeated filler, then the question.
// A model that attends to the needle answers with the number; a sparse attention that drops the
// needle's keys does not, which is what the studio checks.

import { mulberry32 } from '../util/random';

/** The standard template's pieces; only the filler between them changes with the size. */
export const PASSKEY_INTRO =
  'There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. ' +
  'I will quiz you about the important information there. ';
export const PASSKEY_QUESTION = 'What is the pass key? The pass key is';
export const STANDARD_FILLER = [
  'The grass is green.', 'The sky is blue.', 'The sun is yellow.', 'Here we go.', 'There and back again.',
];
export const passkeyNeedle = (key: string) => `The pass key is ${key}. Remember it. ${key} is the pass key. `;

/** Characters per token assumed for `tokensApprox`: the filler is short common English words, which
 * byte-level BPE tokenizers (GPT-2's, the default model's) cut at about 4 to 5 characters a token. */
export const CHARS_PER_TOKEN = 4;

export interface PasskeyOptions {
  /** Approximate length in tokens (converted with CHARS_PER_TOKEN). Give this or `chars`. */
  tokensApprox?: number;
  /** Target length of the whole text in characters. Give this or `tokensApprox`. */
  chars?: number;
  /** Where the needle goes in the filler: 0 = right after the intro, 1 = right before the question. */
  depth: number;
  /** The number to hide (digits only); drawn from `seed` (5 digits) when omitted. */
  passkey?: string | number;
  /** Seeds the drawn passkey and, with filler 'shuffled', the filler order. */
  seed?: number;
  /** 'standard': the template's five sentences repeated in order (the usual benchmark);
   * 'shuffled': the same sentences in a seeded random order, so the text has no exact period. */
  filler?: 'standard' | 'shuffled';
}

export interface PasskeyText {
  text: string;
  passkey: string;
  /** Character offsets of the needle sentence in `text` ([start, end)). */
  needleStart: number;
  needleEnd: number;
  /** The depth actually used: the needle's start as a fraction of the filler (sentence-aligned). */
  depth: number;
  /** What a correct continuation begins with (a space, then the digits). */
  answer: string;
}

const prng = mulberry32;

function targetChars(o: PasskeyOptions): number {
  const hasTokens = o.tokensApprox !== undefined, hasChars = o.chars !== undefined;
  if (hasTokens === hasChars) {
    throw new Error('makePasskeyText: give exactly one of tokensApprox (approximate tokens) or chars (characters).');
  }
  const n = hasTokens ? o.tokensApprox! * CHARS_PER_TOKEN : o.chars!;
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`makePasskeyText: the length must be a positive number, got ${hasTokens ? `tokensApprox ${o.tokensApprox}` : `chars ${o.chars}`}.`);
  }
  return Math.round(n);
}

function passkeyString(o: PasskeyOptions, r: () => number): string {
  if (o.passkey === undefined) return String(10000 + Math.floor(r() * 90000));
  const key = String(o.passkey);
  if (typeof o.passkey === 'number' && (!Number.isSafeInteger(o.passkey) || o.passkey < 0)) {
    throw new Error(`makePasskeyText: passkey ${o.passkey} must be a non-negative integer (or a string of digits).`);
  }
  if (!/^\d+$/.test(key)) throw new Error(`makePasskeyText: passkey "${key}" must be digits only, e.g. 71432.`);
  return key;
}

/** Builds the passkey text. Deterministic: the same options give the same text. */
export function makePasskeyText(o: PasskeyOptions): PasskeyText {
  if (!(o.depth >= 0 && o.depth <= 1)) throw new Error(`makePasskeyText: depth ${o.depth} must be between 0 and 1.`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`makePasskeyText: seed ${seed} must be an integer.`);
  const r = prng(seed);
  const total = targetChars(o);
  const key = passkeyString(o, r);
  const needle = passkeyNeedle(key);
  const budget = total - PASSKEY_INTRO.length - needle.length - PASSKEY_QUESTION.length;
  if (budget < 0) {
    const need = PASSKEY_INTRO.length + needle.length + PASSKEY_QUESTION.length;
    throw new Error(`makePasskeyText: ${total} characters cannot hold the template (${need} characters without filler); ask for more.`);
  }

  // Whole filler sentences (each followed by a space) until the budget is spent.
  const order = [...STANDARD_FILLER];
  const sentences: string[] = [];
  let used = 0;
  for (let i = 0; ; i++) {
    if (i % order.length === 0 && o.filler === 'shuffled') {
      for (let j = order.length - 1; j > 0; j--) {
        const k = Math.floor(r() * (j + 1));
        [order[j], order[k]] = [order[k], order[j]];
      }
    }
    const s = order[i % order.length] + ' ';
    if (used + s.length > budget) break;
    sentences.push(s);
    used += s.length;
  }

  // The needle goes at the sentence boundary nearest depth x (filler length).
  let at = 0, best = Infinity, pos = 0;
  for (let i = 0; i <= sentences.length; i++) {
    const d = Math.abs(pos - o.depth * used);
    if (d < best) { best = d; at = i; }
    if (i < sentences.length) pos += sentences[i].length;
  }
  const before = sentences.slice(0, at).join('');
  const after = sentences.slice(at).join('');
  const needleStart = PASSKEY_INTRO.length + before.length;
  const text = PASSKEY_INTRO + before + needle + after + PASSKEY_QUESTION;
  return {
    text, passkey: key, needleStart, needleEnd: needleStart + needle.length,
    depth: used > 0 ? before.length / used : o.depth, answer: ` ${key}`,
  };
}
