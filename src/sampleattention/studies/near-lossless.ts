// The near-lossless check (docs/SAMPLEATTENTION.md, "Model-level"): the model run dense and with
// SampleAttention in every head, compared on its own outputs (mean KL(dense || sparse) of the
// next-token distributions, top-1 agreement, perplexity change) and on passkey retrieval (greedy
// continuation after "The pass key is", with the KV cache). The forward pass and the generation are
// injected (ModelRun) so the callers add their own progress and cancelling: the command line
// (cli/eval.ts) and the studio (src/engine/checks.ts) pass them in.
import { argmax, klDivergence, nextTokenNll } from '../../model/metrics';
import type { sampleAttentionOverride } from '../gpu-run/model-attention';
import type { HeadResult } from '../spec/setting';
import { makePasskeyText } from '../../texts/passkey';

export type AttentionOverrideFn = ReturnType<typeof sampleAttentionOverride>;

/** The model's prefill: logits (S, vocab) with 'all', (1, vocab) with 'last'. */
export type ForwardFn = (ids: Int32Array, opts: { attention?: AttentionOverrideFn; logits?: 'all' | 'last' }) => Promise<{ logits: Float32Array }>;

export interface LogitComparison {
  /** Positions compared (all S rows of logits). */
  positions: number;
  /** Mean over positions of KL(dense || sparse) of the next-token distributions, in nats. */
  meanKl: number;
  maxKl: number;
  /** Share of positions whose arg-max token is the same. */
  top1Agreement: number;
  /** Mean next-token loss (nats) over the S - 1 predicted tokens, and exp of it. */
  nllDense: number;
  nllSparse: number;
  pplDense: number;
  pplSparse: number;
  /** (pplSparse / pplDense - 1) in percent. */
  pplChangePct: number;
}

/** Dense and sparse logits of the same ids, (S, vocab) each, compared in float64. */
export function compareLogits(dense: Float32Array, sparse: Float32Array, ids: ArrayLike<number>, vocab: number): LogitComparison {
  const S = ids.length;
  if (dense.length !== S * vocab || sparse.length !== S * vocab) {
    throw new RangeError(`compareLogits: logits hold ${dense.length} and ${sparse.length} values; (S, vocab) = (${S}, ${vocab}) needs ${S * vocab} each.`);
  }
  if (S < 2) throw new RangeError('compareLogits: need at least 2 tokens (one predicted token) for a perplexity.');
  let kl = 0, maxKl = 0, agree = 0;
  for (let t = 0; t < S; t++) {
    const k = klDivergence(dense, sparse, t * vocab, vocab);
    kl += k;
    maxKl = Math.max(maxKl, k);
    if (argmax(dense, t * vocab, vocab) === argmax(sparse, t * vocab, vocab)) agree++;
  }
  const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const nllDense = mean(nextTokenNll(dense, ids, vocab));
  const nllSparse = mean(nextTokenNll(sparse, ids, vocab));
  const pplDense = Math.exp(nllDense), pplSparse = Math.exp(nllSparse);
  return { positions: S, meanKl: kl / S, maxKl, top1Agreement: agree / S, nllDense, nllSparse, pplDense, pplSparse, pplChangePct: 100 * (pplSparse / pplDense - 1) };
}

export interface SelectionSummary {
  /** Mean over layers and heads of each head's mean row recall. */
  recallMean: number;
  /** Mean over layers and heads of density. */
  density: number;
  /** The worst head's P5 row recall. */
  worstRecallP5: number;
  perLayer: { layer: number; recallMean: number; density: number; worstRecallP5: number }[];
}

/** The per-layer and model-level means of the selections that sampleAttentionOverride reported. */
export function summarizeSelections(layers: readonly (readonly { recallMean: number; density: number; recallP5: number }[])[]): SelectionSummary {
  const present = layers.map((heads, layer) => ({ layer, heads })).filter((x) => x.heads && x.heads.length > 0);
  if (present.length === 0) throw new RangeError('summarizeSelections: no layer reported any head.');
  const perLayer = present.map(({ layer, heads }) => ({
    layer,
    recallMean: heads.reduce((a, h) => a + h.recallMean, 0) / heads.length,
    density: heads.reduce((a, h) => a + h.density, 0) / heads.length,
    worstRecallP5: Math.min(...heads.map((h) => h.recallP5)),
  }));
  const all = present.flatMap((x) => x.heads);
  return {
    recallMean: all.reduce((a, h) => a + h.recallMean, 0) / all.length,
    density: all.reduce((a, h) => a + h.density, 0) / all.length,
    worstRecallP5: Math.min(...all.map((h) => h.recallP5)),
    perLayer,
  };
}

/** Greedy continuation: `steps` new tokens after `ids`, the prefill run with `attention` (dense
 * without one). The model's KV-cache generation (src/model/generate.ts generateGreedy: one
 * prefill, then one token at a time, dense over the cache) is what callers pass in. */
export type GenerateFn = (ids: Int32Array, steps: number, attention?: AttentionOverrideFn) => Promise<number[]>;

/** The model as the check runs it: prefills for the logit comparison, generation for passkeys. */
export interface ModelRun {
  forward: ForwardFn;
  generate: GenerateFn;
}

/** Retrieval succeeded when the continuation, leading spaces removed, starts with the digits. */
export function passkeyRetrieved(continuation: string, passkey: string): boolean {
  return continuation.replace(/^\s+/, '').startsWith(passkey);
}

export interface Tokenizer {
  encode(text: string): ArrayLike<number>;
  decode(ids: ArrayLike<number>): string;
}

export interface PasskeyPrompt {
  ids: Int32Array;
  passkey: string;
  /** Tokens the answer " <digits>" takes: how many greedy steps retrieval needs. */
  answerTokens: number;
  depth: number;
}

/** A passkey prompt of at most `tokens` tokens (the template is sized in characters, then shrunk
 * until the tokenizer's count fits), the needle at `depth`. */
export function passkeyPrompt(tok: Tokenizer, tokens: number, depth: number, seed: number): PasskeyPrompt {
  let chars = tokens * 4;
  for (let tries = 0; tries < 12; tries++) {
    const p = makePasskeyText({ chars, depth, seed });
    const ids = Int32Array.from(tok.encode(p.text));
    if (ids.length <= tokens) {
      return { ids, passkey: p.passkey, answerTokens: tok.encode(p.answer).length, depth: p.depth };
    }
    chars = Math.floor(chars * (tokens / ids.length) * 0.98);
  }
  throw new Error(`passkeyPrompt: could not fit a passkey text into ${tokens} tokens; ask for a longer length.`);
}

export interface PasskeyResult {
  length: number;
  tokens: number;
  depth: number;
  passkey: string;
  dense: { continuation: string; retrieved: boolean };
  sparse: { continuation: string; retrieved: boolean };
  /** The two greedy continuations are the same tokens. */
  agree: boolean;
}

/** One passkey case: greedy continuation with a dense prefill and with a SampleAttention prefill
 * (`sparse()`, a fresh override; the decode steps are dense over the cache either way). */
export async function passkeyCase(gen: GenerateFn, tok: Tokenizer, length: number, depth: number, seed: number, sparse: () => AttentionOverrideFn): Promise<PasskeyResult> {
  const p = passkeyPrompt(tok, length, depth, seed);
  const d = await gen(p.ids, p.answerTokens);
  const s = await gen(p.ids, p.answerTokens, sparse());
  const dText = tok.decode(d), sText = tok.decode(s);
  return {
    length, tokens: p.ids.length, depth: p.depth, passkey: p.passkey,
    dense: { continuation: dText, retrieved: passkeyRetrieved(dText, p.passkey) },
    sparse: { continuation: sText, retrieved: passkeyRetrieved(sText, p.passkey) },
    agree: d.length === s.length && d.every((x, i) => x === s[i]),
  };
}

/** The model's sparse attention for one pass; `onLayer` receives each layer's selections. */
export type SparseFactory = (onLayer?: (layer: number, heads: HeadResult[]) => void) => AttentionOverrideFn;

export type TextCheck = LogitComparison & { tokens: number; selection: SelectionSummary };

/** One text: the dense pass, the sparse pass, their logits compared and the selections summarised.
 * The command line (`sa-studio eval`) and the studio both call this, so they print the same numbers. */
export async function checkText(fwd: ForwardFn, ids: Int32Array, vocab: number, sparse: SparseFactory, onPass?: (pass: 'dense' | 'sparse') => void): Promise<TextCheck> {
  onPass?.('dense');
  const dense = await fwd(ids, { logits: 'all' });
  onPass?.('sparse');
  const layers: HeadResult[][] = [];
  const sp = await fwd(ids, { logits: 'all', attention: sparse((l, h) => (layers[l] = h)) });
  return { tokens: ids.length, ...compareLogits(dense.logits, sp.logits, ids, vocab), selection: summarizeSelections(layers) };
}

export interface PasskeyAccuracy {
  dense: number;
  sparse: number;
  agreement: number;
}

/** Passkey cases over lengths x depths (length outermost), seeds 1, 2, ... in that order, and the
 * shares retrieved dense, sparse and with identical continuations. */
export async function passkeySuite(gen: GenerateFn, tok: Tokenizer, lengths: readonly number[], depths: readonly number[], sparse: SparseFactory, onCase?: (done: number, of: number, length: number, depth: number) => void): Promise<{ cases: PasskeyResult[]; accuracy?: PasskeyAccuracy }> {
  const cases: PasskeyResult[] = [];
  let seed = 1;
  const of = lengths.length * depths.length;
  for (const L of lengths) {
    for (const depth of depths) {
      onCase?.(cases.length, of, L, depth);
      cases.push(await passkeyCase(gen, tok, L, depth, seed++, () => sparse()));
    }
  }
  if (cases.length === 0) return { cases };
  const share = (pred: (r: PasskeyResult) => boolean) => cases.filter(pred).length / cases.length;
  return { cases, accuracy: { dense: share((r) => r.dense.retrieved), sparse: share((r) => r.sparse.retrieved), agreement: share((r) => r.agree) } };
}

/** Passkey cases to run: lengths (tokens) x depths (in [0, 1]). */
export interface PasskeyPlan {
  lengths: number[];
  depths: number[];
}

/** Throws a RangeError for a plan the model cannot run. */
export function checkPasskeyPlan(plan: PasskeyPlan | null, maxPositions: number): void {
  for (const L of plan?.lengths ?? []) {
    if (!Number.isInteger(L) || L < 32 || L > maxPositions) throw new RangeError(`passkey length ${L}: give whole numbers of tokens from 32 to the model's ${maxPositions} positions.`);
  }
  for (const d of plan?.depths ?? []) if (!(d >= 0 && d <= 1)) throw new RangeError(`passkey depth ${d}: depths lie in [0, 1].`);
}

export interface NearLosslessReport {
  /** One per text, in the order given. */
  texts: TextCheck[];
  /** Cases in the plan's order: lengths outermost, then depths. */
  passkey: PasskeyResult[];
  plan: PasskeyPlan | null;
  passkeyAccuracy?: PasskeyAccuracy;
}

export interface NearLosslessHooks {
  onPass?: (text: number, pass: 'dense' | 'sparse') => void;
  onCase?: (done: number, of: number, length: number, depth: number) => void;
  /** Awaited between the texts and the passkey cases (a UI lets its event loop run here). */
  between?: () => Promise<void>;
}

/** The near-lossless check, its one home: every text dense vs sparse, then the passkey plan.
 * `sa-studio eval` and the studio's check both call this. */
export async function nearLosslessStudy(model: ModelRun, tok: Tokenizer, config: { vocabSize: number; maxPositions: number }, texts: readonly Int32Array[], sparse: SparseFactory, plan: PasskeyPlan | null, hooks: NearLosslessHooks = {}): Promise<NearLosslessReport> {
  checkPasskeyPlan(plan, config.maxPositions);
  const checks: TextCheck[] = [];
  for (let t = 0; t < texts.length; t++) checks.push(await checkText(model.forward, texts[t], config.vocabSize, sparse, (pass) => hooks.onPass?.(t, pass)));
  await hooks.between?.();
  const suite = plan ? await passkeySuite(model.generate, tok, plan.lengths, plan.depths, sparse, hooks.onCase) : { cases: [] };
  return { texts: checks, passkey: suite.cases, plan, passkeyAccuracy: suite.accuracy };
}
