// `sa-studio generate`: greedy continuation of a text (or of a passkey prompt) with the KV cache:
// one prefill, dense or SampleAttention in every head, then one token at a time, each decode step
// dense over the cache (SampleAttention is a prefill method). Only the new text goes to stdout;
// progress, timings and the passkey verdict go to stderr.
import { HELP_FLAG, parseFlags, printedHelp, UsageError, type FlagSpec } from './args';
import { PRECISION_FLAG, flagPrecision } from './precision-flag';
import { ATTENTION_FLAGS, attentionChoice } from './attention-flags';
import { openSession } from './session';
import { LimitError } from '../gpu/errors';
import { generateGreedy } from '../src/model/generate';
import { headShape } from '../src/sampleattention/studies/tune';
import { sampleAttentionPrefill } from '../src/sampleattention/gpu-run/prefill-attention';
import { passkeyPrompt, passkeyRetrieved } from '../src/sampleattention/studies/near-lossless';

const SPEC: FlagSpec = {
  ...PRECISION_FLAG,
  model: { kind: 'string', required: true, help: 'checkpoint folder or "default"' },
  text: { kind: 'string', help: 'UTF-8 text file to continue (or --passkey-length)' },
  'max-tokens': { kind: 'number', help: 'keep only the first N tokens of the text' },
  'max-new-tokens': { kind: 'number', help: 'tokens to generate (default 32; stops early at the model\'s eos token)' },
  'passkey-length': { kind: 'number', help: 'instead of --text: a passkey prompt of this many tokens (src/texts/passkey.ts); generates the answer\'s tokens and says on stderr whether it was retrieved' },
  'passkey-depth': { kind: 'number', help: 'the needle\'s depth in [0, 1] (default 0.5)' },
  ...ATTENTION_FLAGS,
  ...HELP_FLAG,
};

const SUMMARY = 'greedy continuation with a KV cache (dense or SampleAttention prefill, dense decode steps); new text on stdout';

export async function generateCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'generate', SUMMARY, SPEC)) return 0;
  const f = parseFlags('generate', argv, SPEC);
  const passkeyLength = f['passkey-length'] as number | undefined;
  if ((f.text === undefined) === (passkeyLength === undefined)) throw new UsageError('generate: give --text FILE or --passkey-length N (one of them).');
  if (passkeyLength !== undefined && (!Number.isInteger(passkeyLength) || passkeyLength < 32)) throw new UsageError(`generate: --passkey-length must be a whole number of at least 32 tokens, got ${passkeyLength}.`);
  const depth = (f['passkey-depth'] as number | undefined) ?? 0.5;
  if (!(depth >= 0 && depth <= 1)) throw new UsageError(`generate: --passkey-depth must lie in [0, 1], got ${depth}.`);
  let steps = (f['max-new-tokens'] as number | undefined) ?? 32;
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`generate: --max-new-tokens must be a whole number >= 1, got ${steps}.`);
  const sample = attentionChoice('generate', f);
  const precision = flagPrecision('generate', f);

  // The guard counts the prompt (a passkey's length is known before it is made) and the cache.
  const s = await openSession(f.model as string, f.text as string | undefined, f['max-tokens'] as number | undefined, false, precision, (S) => {
    const prompt = passkeyLength ?? S;
    return { S: prompt, logits: 'last', sampleAttention: sample ? 1 : 0, kvCache: prompt + steps };
  });
  const c = s.checkpoint.config;
  const tok = s.checkpoint.tokenizer;
  let prefill: ReturnType<typeof sampleAttentionPrefill> | undefined;
  try {
    let ids = s.ids;
    let passkey: string | undefined;
    if (passkeyLength !== undefined) {
      if (passkeyLength > c.maxPositions) throw new LimitError(`generate: --passkey-length ${passkeyLength} is more than the model's ${c.maxPositions} positions (max_position_embeddings).`, passkeyLength, c.maxPositions);
      const p = passkeyPrompt(tok, passkeyLength, depth, 1);
      ids = p.ids;
      passkey = p.passkey;
      steps = p.answerTokens;
      process.stderr.write(`generate: passkey prompt of ${ids.length} tokens, needle at depth ${p.depth.toFixed(2)}\n`);
    }
    if (ids.length + steps - 1 > c.maxPositions) {
      throw new LimitError(`generate: ${ids.length} prompt tokens and ${steps} new ones need ${ids.length + steps - 1} positions, more than the model's ${c.maxPositions}: pass --max-tokens ${Math.max(1, c.maxPositions - steps + 1)} or fewer --max-new-tokens.`, ids.length + steps - 1, c.maxPositions);
    }
    if (sample) prefill = sampleAttentionPrefill(s.ctx, { ...headShape(c), tensorCores: s.model.tensorCores }, sample.params({ name: s.checkpoint.name, config: c }));
    process.stderr.write(`generate: ${s.checkpoint.name} on ${s.adapter} (${precision}); prefill ${ids.length} tokens with ${sample ? sample.describe : 'dense attention'}; GPU memory about ${(s.memory.total / 2 ** 20).toFixed(0)} MiB\n`);
    const g = await generateGreedy(s.model, ids, steps, {
      attention: prefill?.attention,
      stopAt: c.eosTokenId !== undefined ? [c.eosTokenId] : [],
      onToken: (_, i) => { if (i === 0) process.stderr.write('generate: prefill done, decoding\n'); },
    });
    const text = tok.decode(g.tokens);
    console.log(text);
    const decoded = g.tokens.length - 1;
    process.stderr.write(`generate: prefill (time to first token) ${g.prefillMs.toFixed(1)} ms; ${decoded} decode steps in ${g.decodeMs.toFixed(1)} ms${decoded > 0 ? ` (${(g.decodeMs / decoded).toFixed(1)} ms a token)` : ''}\n`);
    if (passkey !== undefined) process.stderr.write(`generate: passkey ${passkey} ${passkeyRetrieved(text, passkey) ? 'retrieved' : 'NOT retrieved'}\n`);
  } finally {
    prefill?.release();
    s.model.dispose();
  }
  return 0;
}
