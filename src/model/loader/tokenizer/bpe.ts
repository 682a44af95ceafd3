// tokenizer.json "model": {"type": "BPE"}. Merges a word's symbols lowest rank first (leftmost on
// ties) with a heap over linked symbols, as the Rust library's Word::merge_all does, so a word of n
// characters costs O(n log n) (Llama 2 style tokenizers have no pre-tokenizer: the whole text is
// one word). Words are cached, so repeated words in 100 KB of text cost a map lookup.
import type { Json } from './components';

const MAX_CACHED_WORD = 256;
const MAX_CACHE_ENTRIES = 100_000;

/** Min-heap of (rank, pos) with the merge's result id alongside. */
class MergeHeap {
  private keys: number[] = [];
  private ids: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  push(rank: number, pos: number, newId: number): void {
    // rank < 2^26 and pos < 2^26 keep the combined key exact in a double.
    const k = rank * 67108864 + pos;
    const keys = this.keys, ids = this.ids;
    let i = keys.length;
    keys.push(k);
    ids.push(newId);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= k) break;
      keys[i] = keys[p];
      ids[i] = ids[p];
      i = p;
    }
    keys[i] = k;
    ids[i] = newId;
  }
  /** Pops the smallest; returns [rank, pos, newId]. */
  pop(): [number, number, number] {
    const keys = this.keys, ids = this.ids;
    const topK = keys[0], topId = ids[0];
    const lastK = keys.pop()!, lastId = ids.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && keys[l + 1] < keys[l] ? l + 1 : l;
        if (keys[c] >= lastK) break;
        keys[i] = keys[c];
        ids[i] = ids[c];
        i = c;
      }
      keys[i] = lastK;
      ids[i] = lastId;
    }
    const rank = Math.floor(topK / 67108864);
    return [rank, topK - rank * 67108864, topId];
  }
}

export class BpeModel {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[] = [];
  /** (left id * stride + right id) -> merge rank; newIdByRank[rank] is the merged token's id. */
  private ranks = new Map<number, number>();
  private newIdByRank: Int32Array;
  private stride: number;
  private cache = new Map<string, number[]>();
  private unkId: number | undefined;
  private byteIds: Int32Array | null = null;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(model: Json) {
    const vocab = model.vocab as Record<string, number> | undefined;
    if (!vocab || typeof vocab !== 'object') throw new Error('tokenizer.json: model.vocab must be an object of token -> id.');
    this.vocab = new Map(Object.entries(vocab));
    let maxId = -1;
    for (const [tok, id] of this.vocab) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`tokenizer.json: model.vocab[${JSON.stringify(tok)}] = ${id} is not a non-negative integer id.`);
      this.idToToken[id] = tok;
      if (id > maxId) maxId = id;
    }
    this.stride = maxId + 1;
    const merges = (model.merges ?? []) as unknown[];
    if (!Array.isArray(merges)) throw new Error(`tokenizer.json: model.merges must be a list of merges, got ${JSON.stringify(merges).slice(0, 100)}.`);
    this.newIdByRank = new Int32Array(merges.length);
    merges.forEach((m, rank) => {
      // Older files write merges as "a b"; newer ones as ["a", "b"] (tokens may then hold spaces).
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new Error(`tokenizer.json: merge ${rank} ${JSON.stringify(m)} must be "a b" or ["a", "b"].`);
      }
      const [a, b] = pair as [string, string];
      const ia = this.vocab.get(a), ib = this.vocab.get(b), ic = this.vocab.get(a + b);
      if (ia === undefined || ib === undefined || ic === undefined) {
        const miss = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new Error(`tokenizer.json: merge ${rank} (${JSON.stringify(a)}, ${JSON.stringify(b)}) uses token ${JSON.stringify(miss)}, which is not in model.vocab.`);
      }
      const key = ia * this.stride + ib;
      this.ranks.set(key, rank); // a repeated pair keeps its last rank, as the library's map does
      this.newIdByRank[rank] = ic;
    });
    const unk = model.unk_token;
    if (typeof unk === 'string') {
      this.unkId = this.vocab.get(unk);
      if (this.unkId === undefined) throw new Error(`tokenizer.json: model.unk_token ${JSON.stringify(unk)} is not in model.vocab.`);
    }
    if (model.byte_fallback === true) {
      const ids = new Int32Array(256).fill(-1);
      for (let b = 0; b < 256; b++) ids[b] = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? -1;
      this.byteIds = ids;
    }
    this.fuseUnk = model.fuse_unk === true;
    this.ignoreMerges = model.ignore_merges === true;
    this.prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '';
    this.suffix = typeof model.end_of_word_suffix === 'string' ? model.end_of_word_suffix : '';
  }

  /** Token ids of one pre-tokenized word. */
  tokenize(word: string): number[] {
    if (word.length === 0) return [];
    const cached = this.cache.get(word);
    if (cached) return cached;
    let ids: number[];
    const whole = this.ignoreMerges ? this.vocab.get(word) : undefined;
    if (whole !== undefined) ids = [whole];
    else ids = this.merge(this.initialSymbols(word));
    if (word.length <= MAX_CACHED_WORD) {
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
      this.cache.set(word, ids);
    }
    return ids;
  }

  /** One symbol per character; characters outside the vocab become byte tokens or unk. */
  private initialSymbols(word: string): number[] {
    const out: number[] = [];
    const chars = [...word];
    let unk: number | undefined; // pending unk (fused with following unknown characters)
    const enc = new TextEncoder();
    for (let i = 0; i < chars.length; i++) {
      let s = chars[i];
      if (i > 0 && this.prefix) s = this.prefix + s;
      if (i === chars.length - 1 && this.suffix) s = s + this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        if (unk !== undefined) {
          out.push(unk);
          unk = undefined;
        }
        out.push(id);
        continue;
      }
      if (this.byteIds) {
        const bytes = enc.encode(s);
        const ids = Array.from(bytes, (b) => this.byteIds![b]);
        if (ids.every((x) => x >= 0)) {
          out.push(...ids);
          continue;
        }
      }
      if (this.unkId !== undefined) {
        if (unk !== undefined && !this.fuseUnk) out.push(unk);
        unk = this.unkId;
      }
      // Without unk_token an unknown character is dropped, as the Rust library does.
    }
    if (unk !== undefined) out.push(unk);
    return out;
  }

  private pairRank(a: number, b: number): number {
    return this.ranks.get(a * this.stride + b) ?? -1;
  }

  private merge(ids: number[]): number[] {
    const n = ids.length;
    if (n < 2 || this.ranks.size === 0) return ids;
    const sym = Int32Array.from(ids);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    const heap = new MergeHeap();
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
      if (i + 1 < n) {
        const r = this.pairRank(sym[i], sym[i + 1]);
        if (r >= 0) heap.push(r, i, this.newIdByRank[r]);
      }
    }
    while (heap.size > 0) {
      const [, pos, newId] = heap.pop();
      if (!alive[pos]) continue;
      const right = next[pos];
      if (right < 0) continue;
      // Skip entries made stale by an earlier merge: the pair there must still produce newId.
      const cur = this.pairRank(sym[pos], sym[right]);
      if (cur < 0 || this.newIdByRank[cur] !== newId) continue;
      sym[pos] = newId;
      alive[right] = 0;
      next[pos] = next[right];
      if (next[right] >= 0) prev[next[right]] = pos;
      const p = prev[pos];
      if (p >= 0) {
        const r = this.pairRank(sym[p], sym[pos]);
        if (r >= 0) heap.push(r, p, this.newIdByRank[r]);
      }
      const q = next[pos];
      if (q >= 0) {
        const r = this.pairRank(sym[pos], sym[q]);
        if (r >= 0) heap.push(r, pos, this.newIdByRank[r]);
      }
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
    return out;
  }
}
