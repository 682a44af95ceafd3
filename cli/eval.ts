// `sa-studio eval`: the near-lossless check. The model runs dense and with SampleAttention in every
// head (one parameter set, or per-head parameters from a config), on each text and on passkey
// prompts; prints per-text KL, top-1 agreement, perplexity and recall/density, and passkey
// retrieval over lengths x depths. The measures are defined in src/sampleattention/studies/near-lossless.ts.
import { writeFileSync } from 'node:fs';
import { CONFIG_FLAG, sampleChoice } from './attention-flags';
import { HELP_FLAG, parseFlags, printedHelp, table, UsageError, type FlagSpec } from './args';
import { PRECISION_FLAG, flagPrecision } from './precision-flag';
import { openSession, readText, type Session } from './session';
import { forward } from '../src/model/forward';
import { generateGreedy } from '../src/model/generate';
import type { SettingLike } from '../src/sampleattention/spec/setting';
import { InputError } from '../gpu/errors';
import { positionsError } from '../src/model/memory-plan';
import { sampleAttentionFactory } from '../src/sampleattention/gpu-run/model-attention';
import { headShape } from '../src/sampleattention/studies/tune';
import {
  nearLosslessStudy,
  type ModelRun, type PasskeyAccuracy, type PasskeyResult, type TextCheck,
} from '../src/sampleattention/studies/near-lossless';

const SPEC: FlagSpec = {
  ...PRECISION_FLAG,
  model: { kind: 'string', required: true, help: 'checkpoint folder or "default"' },
  text: { kind: 'string', required: true, help: 'one or more UTF-8 text files (--text a.txt b.txt, or --text repeated)' },
  ...CONFIG_FLAG,
  'max-tokens': { kind: 'number', help: 'keep only the first N tokens of each text' },
  'passkey-lengths': { kind: 'string', help: 'comma-separated prompt lengths in tokens (default 512,1024,2048,4096; "none" skips passkeys)' },
  'passkey-depths': { kind: 'string', help: 'comma-separated needle depths in [0, 1] (default 0,0.25,0.5,0.75,1)' },
  json: { kind: 'string', help: 'also write every figure as JSON here' },
  ...HELP_FLAG,
};

const SUMMARY = 'dense vs SampleAttention on the model\'s outputs: KL, top-1 agreement, perplexity, recall, density, passkey retrieval';

/** Pulls every value of a flag that may take several (`--text a b --text c`) out of argv. */
export function takeMulti(argv: readonly string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== `--${name}`) {
      rest.push(argv[i]);
      continue;
    }
    while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) values.push(argv[++i]);
  }
  return { values, rest };
}

export function numberList(flag: string, s: string, check: (x: number) => boolean, what: string): number[] {
  const xs = s.split(',').map((t) => t.trim()).filter((t) => t.length > 0).map(Number);
  if (xs.length === 0) throw new UsageError(`--${flag}: give a comma-separated list of ${what}.`);
  for (const x of xs) if (!Number.isFinite(x) || !check(x)) throw new UsageError(`--${flag}: ${x} is not ${what}.`);
  return xs;
}


/** The token ids of every text: the first from the session, the others read and tokenized here. */
export function textIds(s: Session, files: readonly string[], maxTokens: number | undefined): Int32Array[] {
  return files.map((file, t) => {
    if (t === 0) return s.ids;
    let ids = Int32Array.from(s.checkpoint.tokenizer.encode(readText(file)));
    if (maxTokens !== undefined) ids = ids.slice(0, maxTokens);
    if (ids.length === 0) throw new InputError(`--text ${file} gives no tokens: give a longer text.`, { file });
    const max = s.checkpoint.config.maxPositions;
    if (ids.length > max) throw positionsError(`--text ${file}`, ids.length, max, `pass --max-tokens ${max} or a shorter text.`, file);
    return ids;
  });
}

export interface EvalReport {
  model: string;
  adapter: string;
  attention: string;
  texts: (TextCheck & { file: string })[];
  passkey: PasskeyResult[];
  passkeyAccuracy?: PasskeyAccuracy;
}

export async function evalCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'eval', SUMMARY, SPEC)) return 0;
  const { values: texts, rest } = takeMulti(argv, 'text');
  if (texts.length === 0) throw new UsageError(`eval: --text is required (${SPEC.text.help}).`);
  const f = parseFlags('eval', [...rest, '--text', texts[0]], SPEC);
  // A broken config fails before the model is loaded; whether it fits the model is checked below.
  const sample = sampleChoice('eval', f);
  const lengthsArg = (f['passkey-lengths'] as string | undefined) ?? '512,1024,2048,4096';
  const lengths = lengthsArg === 'none' ? [] : numberList('passkey-lengths', lengthsArg, (x) => Number.isInteger(x) && x >= 32, 'an integer of at least 32 tokens');
  const depths = numberList('passkey-depths', (f['passkey-depths'] as string | undefined) ?? '0,0.25,0.5,0.75,1', (x) => x >= 0 && x <= 1, 'a depth in [0, 1]');
  const maxTokens = f['max-tokens'] as number | undefined;

  const s = await openSession(f.model as string, texts[0], maxTokens, false, flagPrecision('eval', f), { sampleAttention: 1 });
  const c = s.checkpoint.config;
  let params: SettingLike | readonly (readonly SettingLike[])[];
  const attentionText = sample.describe;
  try {
    for (const L of lengths) if (L > c.maxPositions) throw new UsageError(`eval: passkey length ${L} is above the model's ${c.maxPositions} positions.`);
    params = sample.params({ name: s.checkpoint.name, config: c });
  } catch (e) {
    s.model.dispose();
    throw e;
  }
  const run: ModelRun = {
    forward: (ids, o) => forward(s.model, ids, o),
    generate: async (ids, steps, attention) => (await generateGreedy(s.model, ids, steps, { attention })).tokens,
  };
  const report: EvalReport = { model: s.checkpoint.name, adapter: s.adapter, attention: attentionText, texts: [], passkey: [] };
  try {
    const allIds = textIds(s, texts, maxTokens);
    const r = await nearLosslessStudy(run, s.checkpoint.tokenizer, c, allIds, sampleAttentionFactory(s.ctx, { ...headShape(c), tensorCores: s.model.tensorCores }, params), { lengths, depths }, {
      onPass: (t, pass) => process.stderr.write(`eval: ${texts[t]}: ${allIds[t].length} tokens, ${pass} pass\n`),
      onCase: (_, __, L, depth) => process.stderr.write(`eval: passkey length ${L}, depth ${depth}\n`),
    });
    report.texts = r.texts.map((t, i) => ({ file: texts[i], ...t }));
    report.passkey = r.passkey;
    report.passkeyAccuracy = r.passkeyAccuracy;
  } finally {
    s.model.dispose();
  }
  console.log(formatEval(report, lengths, depths));
  if (f.json !== undefined) {
    writeFileSync(f.json as string, JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(`eval: wrote ${f.json}\n`);
  }
  return 0;
}

/** The printed tables. */
export function formatEval(r: EvalReport, lengths: readonly number[], depths: readonly number[]): string {
  const out: string[] = [`model: ${r.model}; adapter: ${r.adapter}`, `attention: ${r.attention}`, ''];
  const head = ['text', 'tokens', 'mean KL', 'max KL', 'top-1 agree', 'ppl dense', 'ppl sparse', 'ppl change', 'recall', 'worst P5', 'density'];
  const rows = r.texts.map((t) => [
    t.file.split('/').pop() ?? t.file, String(t.tokens), t.meanKl.toExponential(3), t.maxKl.toExponential(2), t.top1Agreement.toFixed(4),
    t.pplDense.toFixed(3), t.pplSparse.toFixed(3), `${t.pplChangePct >= 0 ? '+' : ''}${t.pplChangePct.toFixed(2)}%`,
    t.selection.recallMean.toFixed(4), t.selection.worstRecallP5.toFixed(4), t.selection.density.toFixed(4),
  ]);
  out.push(...table(head, rows));
  if (r.passkey.length) {
    out.push('', 'passkey retrieval (greedy continuation after "The pass key is"; D = dense, S = sparse, + retrieved, - not; = same tokens dense and sparse, ~ different)');
    const ph = ['length', ...depths.map((d) => `depth ${d}`)];
    const prow = lengths.map((L) => [String(L), ...depths.map((_, di) => {
      const x = r.passkey[lengths.indexOf(L) * depths.length + di];
      return `D${x.dense.retrieved ? '+' : '-'} S${x.sparse.retrieved ? '+' : '-'} ${x.agree ? '=' : '~'}`;
    })]);
    out.push(...table(ph, prow));
    const a = r.passkeyAccuracy!;
    out.push(`accuracy: dense ${(100 * a.dense).toFixed(1)}%, sparse ${(100 * a.sparse).toFixed(1)}%; dense and sparse continuations identical in ${(100 * a.agreement).toFixed(1)}% of cases`);
    if (a.dense === 0) out.push('note: the model does not retrieve the passkey even with dense attention, so retrieval accuracy says nothing about SampleAttention here; the agreement of the greedy continuations (dense vs sparse) is the comparison that remains.');
    const firstWrong = r.passkey.find((x) => !x.dense.retrieved);
    if (firstWrong) out.push(`e.g. passkey ${firstWrong.passkey} at length ${firstWrong.length}, depth ${firstWrong.depth.toFixed(2)}: dense continued ${JSON.stringify(firstWrong.dense.continuation)}, sparse ${JSON.stringify(firstWrong.sparse.continuation)}`);
  }
  return out.join('\n');
}
