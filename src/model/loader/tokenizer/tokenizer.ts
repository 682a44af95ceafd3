// A Hugging Face tokenizer.json as a Tokenizer: added tokens -> normalizer -> pre-tokenizer -> BPE
// -> post-processor for encode, decoder for decode. Byte-level BPE (GPT-2, Llama 3, Qwen2/3) and
// SentencePiece-style BPE with byte fallback (Llama 2, Mistral) are supported; WordPiece, Unigram
// and WordLevel models are rejected with an error.
import { AddedTokenSplitter, parseAddedTokens, type AddedToken } from './added-tokens';
import { BpeModel } from './bpe';
import type { Json } from './components';
import { buildDecoder, type Decoder } from './decoders';
import { buildNormalizer, type Normalizer } from './normalizers';
import { buildPostProcessor, type PostProcessor } from './post-processors';
import { buildPreTokenizer, type PreTokenizer } from './pre-tokenizers';

export interface Tokenizer {
  /** Token ids of `text`; addSpecialTokens (default true) applies the post-processor (e.g. BOS). */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Text of `ids`; skipSpecialTokens (default false, as transformers) drops special tokens. */
  decode(ids: ArrayLike<number>, opts?: { skipSpecialTokens?: boolean }): string;
  /** One more than the largest id (model vocab and added tokens). */
  readonly vocabSize: number;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Ids of added tokens marked special (BOS, EOS, <|im_start|>, ...). */
  readonly specialIds: ReadonlySet<number>;
}

class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly specialIds: ReadonlySet<number>;
  private addedById = new Map<number, AddedToken>();
  private addedByContent = new Map<string, number>();
  private rawSplitter: AddedTokenSplitter;
  private normalizedSplitter: AddedTokenSplitter;

  constructor(
    private model: BpeModel,
    added: AddedToken[],
    private normalizer: Normalizer,
    private preTokenizer: PreTokenizer,
    private postProcessor: PostProcessor,
    private decoder: Decoder | null,
  ) {
    for (const t of added) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t.id);
    }
    this.rawSplitter = new AddedTokenSplitter(added.filter((t) => !t.normalized));
    this.normalizedSplitter = new AddedTokenSplitter(added.filter((t) => t.normalized));
    this.specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
    this.vocabSize = Math.max(model.idToToken.length, ...added.map((t) => t.id + 1));
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const ids: number[] = [];
    let offset = 0;
    for (const seg of this.rawSplitter.split(text)) {
      if (seg.id !== undefined) {
        ids.push(seg.id);
        offset += this.addedById.get(seg.id)!.content.length; // only "starts at 0" is used, so lstrip/rstrip need no care
        continue;
      }
      const atStart = offset === 0;
      offset += seg.text.length;
      let first = true;
      for (const sub of this.normalizedSplitter.split(this.normalizer(seg.text))) {
        if (sub.id !== undefined) ids.push(sub.id);
        else {
          for (const piece of this.preTokenizer([{ text: sub.text, atStart: atStart && first }])) {
            // A loop, not push(...): one piece can be a whole long text (SentencePiece style,
            // no pre-tokenizer), and spreading ~100K ids overflows the call stack.
            for (const id of this.model.tokenize(piece.text)) ids.push(id);
          }
        }
        first = false;
      }
    }
    return opts.addSpecialTokens === false ? ids : this.postProcessor(ids);
  }

  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (opts.skipSpecialTokens && this.specialIds.has(id)) continue;
      const t = this.idToToken(id);
      if (t !== undefined) tokens.push(t); // unknown ids are skipped, as the library does
    }
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken[id];
  }
}

const MODEL_TYPES = ['BPE'];

/** Builds a Tokenizer from a parsed tokenizer.json. */
export function loadTokenizer(json: unknown): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('tokenizer.json must be a JSON object.');
  const j = json as Json;
  const model = j.model as Json | undefined;
  if (!model || typeof model !== 'object') throw new Error('tokenizer.json has no "model" object.');
  // Some older files leave out model.type; a merges list means BPE.
  const type = model.type ?? (Array.isArray(model.merges) ? 'BPE' : undefined);
  if (type !== 'BPE') {
    throw new Error(`tokenizer.json: model type ${JSON.stringify(type)} is not supported (supported: ${MODEL_TYPES.join(', ')}; WordPiece, Unigram and WordLevel tokenizers are not).`);
  }
  return new HfTokenizer(
    new BpeModel(model),
    parseAddedTokens(j.added_tokens),
    buildNormalizer(j.normalizer),
    buildPreTokenizer(j.pre_tokenizer),
    buildPostProcessor(j.post_processor),
    buildDecoder(j.decoder),
  );
}
