// tokenizer.json "post_processor": what encode(text, {addSpecialTokens: true}) adds around the ids
// of a single sequence (Llama: <s>/<|begin_of_text|> in front; GPT-2 and Qwen: nothing).
import { componentList, unsupportedComponent, type Json } from './components';

export type PostProcessor = (ids: number[]) => number[];

const SUPPORTED = ['TemplateProcessing', 'ByteLevel', 'RobertaProcessing', 'BertProcessing', 'Sequence'];

/** [token, id] as Roberta/Bert processors write cls and sep. */
function pairId(v: unknown, what: string): number {
  if (Array.isArray(v) && Number.isInteger(v[1])) return v[1] as number;
  throw new Error(`tokenizer.json: post_processor ${what} must be ["token", id], got ${JSON.stringify(v)}.`);
}

export function buildPostProcessor(json: unknown): PostProcessor {
  if (json === null || json === undefined) return (ids) => ids;
  const j = json as Json;
  switch (j.type) {
    case 'Sequence': {
      const parts = componentList(j, 'processors', 'post_processor').map(buildPostProcessor);
      return (ids) => parts.reduce((acc, f) => f(acc), ids);
    }
    case 'ByteLevel':
      return (ids) => ids; // only adjusts offsets, which this tokenizer does not track
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = pairId(j.cls, 'cls'), sep = pairId(j.sep, 'sep');
      return (ids) => [cls, ...ids, sep];
    }
    case 'TemplateProcessing': {
      const specials = (j.special_tokens ?? {}) as Record<string, { ids?: number[] }>;
      const single = (j.single ?? []) as Array<{ SpecialToken?: { id: string }; Sequence?: { id: string } }>;
      if (!Array.isArray(single) || !single.every((x) => typeof x === 'object' && x !== null)) {
        throw new Error(`tokenizer.json: TemplateProcessing "single" must be a list of {"SpecialToken": ...} / {"Sequence": ...}, got ${JSON.stringify(single).slice(0, 200)}.`);
      }
      if (typeof specials !== 'object' || specials === null) throw new Error('tokenizer.json: TemplateProcessing "special_tokens" must be an object.');
      const plan = single.map((item) => {
        if (item.Sequence) {
          if (item.Sequence.id !== 'A') throw new Error(`tokenizer.json: TemplateProcessing single template uses sequence ${item.Sequence.id}; a single sequence is $A.`);
          return null;
        }
        const name = item.SpecialToken?.id;
        const ids = name === undefined ? undefined : specials[name]?.ids;
        if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`tokenizer.json: TemplateProcessing uses special token ${JSON.stringify(name)}, which its special_tokens does not define.`);
        return ids;
      });
      return (ids) => plan.flatMap((p) => (p === null ? ids : p));
    }
    default:
      throw unsupportedComponent('post_processor', j.type, SUPPORTED);
  }
}
