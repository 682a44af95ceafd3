// `sa-studio perplexity`: next-token loss of a text, in windows of the model's context (or
// --max-tokens) with no overlap; bits per byte over the UTF-8 bytes of the predicted tokens.
import { HELP_FLAG, MODEL_FLAGS, parseFlags, printedHelp, type FlagSpec } from './args';
import { PRECISION_FLAG, flagPrecision } from './precision-flag';
import { openSession, type Session } from './session';
import { forward } from '../src/model/forward';
import { nextTokenNll } from '../src/model/metrics';
import { InputError, LimitError } from '../gpu/errors';

const SPEC: FlagSpec = {
  ...PRECISION_FLAG,
  ...MODEL_FLAGS,
  'max-tokens': { kind: 'number', help: 'window length in tokens (default: the model context, at most 4096)' },
  ...HELP_FLAG,
};

export async function perplexityCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'perplexity', 'print JSON {tokens, nll, perplexity, bitsPerByte} for a text', SPEC)) return 0;
  const f = parseFlags('perplexity', argv, SPEC);
  const s = await openSession(f.model as string, f.text as string, undefined, true, flagPrecision('perplexity', f));
  const { config } = s.checkpoint;
  const window = (f['max-tokens'] as number | undefined) ?? Math.min(config.maxPositions, 4096);
  if (!Number.isInteger(window) || window < 2 || window > config.maxPositions) throw new LimitError(`--max-tokens (the window) must be an integer from 2 to the model's ${config.maxPositions} positions (max_position_embeddings), got ${window}: pass --max-tokens ${config.maxPositions} or less.`, window, config.maxPositions);
  const r = await measurePerplexity(s, window, (line) => process.stderr.write(line + '\n'));
  console.log(JSON.stringify({ ...r, model: s.checkpoint.name, adapter: s.adapter }, null, 2));
  s.model.dispose();
  return 0;
}

export interface PerplexityResult {
  tokens: number;
  nll: number;
  perplexity: number;
  bitsPerByte: number;
  window: number;
  bosPrepended: boolean;
}

/** Next-token loss of the session's text in windows of `window` tokens (no overlap). */
export async function measurePerplexity(s: Session, window: number, log: (line: string) => void = () => {}): Promise<PerplexityResult> {
  const { config } = s.checkpoint;
  const encoder = new TextEncoder();
  // Each window starts with the model's BOS when its tokenizer does not add one itself (the
  // default model was trained and evaluated that way), so every text token is predicted.
  const bos = config.bosTokenId;
  const tokenizerAddsBos = bos !== undefined && s.ids[0] === bos;
  const prepend = bos !== undefined && !tokenizerAddsBos && bos < config.vocabSize;
  const step = prepend ? window - 1 : window;
  let nll = 0;
  let predicted = 0;
  let bytes = 0;
  for (let start = 0; start < s.ids.length; start += step) {
    const text = s.ids.slice(start, start + step);
    const ids = prepend ? Int32Array.from([bos!, ...text]) : text;
    if (ids.length < 2) break;
    const out = await forward(s.model, ids, {});
    const losses = nextTokenNll(out.logits, ids, config.vocabSize);
    for (const x of losses) nll += x;
    predicted += losses.length;
    bytes += encoder.encode(s.checkpoint.tokenizer.decode(prepend ? text : text.subarray(1))).length;
    log(`window at token ${start}: ${ids.length} tokens`);
  }
  if (predicted === 0) throw new InputError('the text has fewer than 2 tokens: nothing to predict. Give a longer text.');
  const mean = nll / predicted;
  return { tokens: predicted, nll: mean, perplexity: Math.exp(mean), bitsPerByte: nll / Math.LN2 / bytes, window, bosPrepended: prepend };
}
