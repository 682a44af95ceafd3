// The forward pass (prefill) of a causal LM on WebGPU, as a plain list of passes per layer:
//   x = embed(ids) (+ positions)
//   per block: h = norm(x); q, k, v = h W^T + b; [q/k RMSNorm per head]; split heads (+ RoPE);
//              a = attention(q, k, v); x += merge(a) Wo^T + bo;
//              h = norm(x); x += act-MLP(h)
//   logits = norm(x) Wlm^T
// Activations are f32. With model.precision f16 the matmuls and the dense attention run on tensor
// cores (f16 operands, f32 accumulation; gpu/tensorcore), the matmuls' x given as f16 copies. Attention is the dense causal softmax unless `opts.attention` replaces it
// (a sparse attention), and can hand back each layer's probability map and post-RoPE q, k, v.
import { checked, type GpuContext } from '../../gpu/device';
import { encodeDispatch, type Dispatch } from '../../gpu/kernel';
import { createTensor, createTensorF16, destroyAll, readTensor, uploadU32, type Tensor } from '../../gpu/tensor';
import { flashDispatch } from '../../gpu/attention/flash';
import { MAX_HEAD_DIM } from '../../gpu/attention/shapes';
import { attentionWithProbsDispatches } from '../../gpu/forward/attention';
import { checkTokenIds, embeddingDispatch } from '../../gpu/forward/embedding';
import { addDispatch, geluDispatch, siluMulDispatch } from '../../gpu/forward/elementwise';
import { mergeHeadsDispatch, splitHeadsDispatch, type RopeTables } from '../../gpu/forward/heads';
import { matmulDispatch } from '../../gpu/forward/matmul';
import { normDispatch } from '../../gpu/forward/norm';
import { uploadRopeTables } from '../../gpu/forward/rope';
import { matmulF16Dispatch } from '../../gpu/tensorcore/matmul';
import { gemvDispatch } from '../../gpu/decode/gemv';
import { flashF16Dispatch } from '../../gpu/tensorcore/attention';
import { kvHalvesFor, toF16Dispatch } from '../../gpu/tensorcore/convert';
import { createFiniteCounter, hostNonFinite, locateNonFinite, nonFiniteDispatch, NonFiniteResultSignal, readFiniteCounter, type ResidualProbe } from '../../gpu/forward/finite';
import type { Linear, Model, Norm } from './model';

export { buildModel, assembleModel } from './build';
export { countParameters, type Model } from './model';

/** Replaces the dense attention of one layer: read q (heads, S, hd), k and v (kvHeads, S, hd),
 * all post-RoPE, and write out (heads, S, hd). Record GPU work into `encoder` (the forward pass
 * submits it) or submit your own; the work before it has been submitted already. */
export type AttentionOverride = (ctx: GpuContext, layer: number, q: Tensor, k: Tensor, v: Tensor, out: Tensor, encoder: GPUCommandEncoder) => void | Promise<void>;

export interface ForwardOptions {
  /** Return each layer's attention probabilities (heads, S, S), zeros above the diagonal. */
  captureAttention?: boolean;
  /** Return each layer's post-RoPE q (heads, S, hd) and k (kvHeads, S, hd). */
  captureQK?: boolean;
  /** Return each layer's v (kvHeads, S, hd). */
  captureV?: boolean;
  attention?: AttentionOverride;
  /** Which logits rows to compute and return: 'all' (default, (S, vocab)), 'last' ((1, vocab), the
   * next-token distribution, as a generation prefill needs) or 'none' (empty; q/k capture only). */
  logits?: 'all' | 'last' | 'none';
  /** Called after each layer's work has finished on the GPU: (layers done, layers). */
  onProgress?: (layer: number, of: number) => void;
  /** Diagnosis only (gpu/forward/finite.ts): called with the residual after the embedding and
   * after each layer's attention and MLP block; the pass then skips its own finite check. */
  residualProbe?: ResidualProbe;
  /** Called per layer with the GPU tensors once its attention has been recorded, so a caller can
   * keep q, k, v on the GPU (record copyBufferToBuffer into `encoder`; the tensors are reused by
   * the next layer) instead of reading them back with captureQK/captureV. */
  onLayerQKV?: (layer: number, t: LayerQKV, encoder: GPUCommandEncoder) => void;
  /** Position of ids[0] (default 0): a decode step runs its new token at position p, after a
   * prefix held in a KV cache (src/model/kv-cache.ts). RoPE and learned positions use it; the
   * attention must then be an override that attends to the cache, since q, k, v hold only the
   * new positions. */
  startPosition?: number;
}

/** One layer's attention inputs on the GPU, post-RoPE, and the dense flash pass's log-sum-exp
 * when that pass ran (no override, no probability map). */
export interface LayerQKV {
  q: Tensor; // (heads, S, hd) f32
  k: Tensor; // (kvHeads, S, hd) f32
  v: Tensor; // (kvHeads, S, hd) f32
  lse?: Tensor; // (heads, S) f32
}

export interface ForwardResult {
  /** (S, vocab); (1, vocab) with logits 'last'; empty with 'none' */
  logits: Float32Array;
  /** per layer (heads, S, S) */
  attn?: Float32Array[];
  /** per layer (heads, S, hd), post-RoPE */
  q?: Float32Array[];
  /** per layer (kvHeads, S, hd), post-RoPE */
  k?: Float32Array[];
  /** per layer (kvHeads, S, hd) */
  v?: Float32Array[];
}

/** Largest logits block computed at once: long texts times large vocabularies run in row chunks. */
const LOGITS_CHUNK_BYTES = 256 << 20;

/** Throws a NonFiniteActivationError naming the layer and pass where a NaN or infinity first
 * appears when the final hidden state or the logits are not finite (never a normal result). */
export async function forward(model: Model, ids: Int32Array, opts: ForwardOptions = {}): Promise<ForwardResult> {
  try {
    return await checked(model.ctx.device, 'the forward pass', () => runForward(model, ids, opts));
  } catch (e) {
    if (!(e instanceof NonFiniteResultSignal) || opts.residualProbe) throw e;
    // This pass's buffers are freed; re-run with a probe after every block to find the first.
    const rerun = (probe: ResidualProbe) => forward(model, ids, { attention: opts.attention, startPosition: opts.startPosition, logits: 'none', residualProbe: probe });
    throw await locateNonFinite(model.ctx, rerun, e.result, model.blocks.length, model.config.hiddenSize);
  }
}

async function runForward(model: Model, ids: Int32Array, opts: ForwardOptions): Promise<ForwardResult> {
  const { ctx, config: c } = model;
  const S = ids.length;
  if (S < 1) throw new RangeError('forward: no tokens (ids is empty).');
  checkTokenIds(ids, c.vocabSize);
  const p0 = opts.startPosition ?? 0;
  if (!Number.isInteger(p0) || p0 < 0) throw new RangeError(`forward: startPosition ${p0} must be a whole number >= 0.`);
  if (p0 > 0 && !opts.attention) throw new Error('forward: startPosition > 0 needs an attention override that attends to the cached prefix (a KV cache); dense attention would see only the new tokens.');
  if (model.embeddings.positions && p0 + S > model.embeddings.positions.shape[0]) {
    throw new RangeError(`forward: ${p0 + S} positions but the model has learned positions for ${model.embeddings.positions.shape[0]} only: shorten the text.`);
  }
  if (opts.attention && opts.captureAttention) {
    throw new Error('forward: captureAttention needs the dense attention; an attention override writes no probability map. Capture q and k (captureQK) instead.');
  }
  const H = c.hiddenSize, hd = c.headDim, nh = c.numHeads, nkv = c.numKvHeads, I = c.intermediateSize;
  const L = model.blocks.length;
  // Dense attention without a map to capture runs as flash attention; the map-writing kernel
  // otherwise (and for head dims above flash's limit).
  const useProbs = !opts.attention && (opts.captureAttention || hd > MAX_HEAD_DIM);

  const owned: (Tensor | GPUBuffer)[] = [];
  const t = (label: string, shape: number[]) => {
    const x = createTensor(ctx, label, shape);
    owned.push(x);
    return x;
  };
  try {
    const idsBuf = uploadU32(ctx, 'token ids', ids); // (S) u32
    owned.push(idsBuf);
    const x = t('residual', [S, H]); // (S, hidden) f32
    const h = t('normed', [S, H]); // (S, hidden) f32
    const q2 = t('q rows', [S, nh * hd]); // (S, heads * hd) f32
    const k2 = t('k rows', [S, nkv * hd]); // (S, kvHeads * hd) f32
    const v2 = t('v rows', [S, nkv * hd]); // (S, kvHeads * hd) f32
    const qn = c.qkNorm ? t('q normed rows', [S, nh * hd]) : q2; // (S, heads * hd) f32
    const kn = c.qkNorm ? t('k normed rows', [S, nkv * hd]) : k2; // (S, kvHeads * hd) f32
    const q = t('q', [nh, S, hd]); // (heads, S, hd) f32
    const k = t('k', [nkv, S, hd]); // (kvHeads, S, hd) f32
    const v = t('v', [nkv, S, hd]); // (kvHeads, S, hd) f32
    const attnOut = t('attention out', [nh, S, hd]); // (heads, S, hd) f32
    const merged = t('attention rows', [S, nh * hd]); // (S, heads * hd) f32
    const proj = t('projection', [S, H]); // (S, hidden) f32
    const up = t('mlp up', [S, I]); // (S, inter) f32
    const gate = c.act === 'silu' ? t('mlp gate', [S, I]) : undefined; // (S, inter) f32
    const probs = useProbs ? t('attention probs', [nh, S, S]) : undefined; // (heads, S, S) f32
    const lse = !useProbs && !opts.attention ? t('attention lse', [nh, S]) : undefined; // (heads, S) f32
    // The tensor-core dense pass reads K and V as f16 where hd allows (half the bytes of f32).
    const kv16 = !useProbs && !opts.attention ? kvHalvesFor(ctx, model.tensorCores, k, v) : undefined;
    if (kv16) owned.push(kv16.k, kv16.v!);
    // On tensor cores the matmuls read their x as f16, converted once per source (the normed rows
    // for q, k, v, up and gate; the merged heads for o; the MLP activation for down): one 16-byte
    // load for 8 k instead of two and a rounding per slab (H200, 4096^3: 196 TFLOP/s against 118
    // with f32 x; docs/benchmarks.md). The same f16 roundings the kernel made of f32 x.
    const xHalves = !!model.tensorCores && S > 1;
    const t16 = (label: string, shape: number[]) => {
      const y = createTensorF16(ctx, label, shape);
      owned.push(y);
      return y;
    };
    const h16 = xHalves ? t16('normed f16', [S, H]) : undefined; // (S, hidden) f16
    const merged16 = xHalves ? t16('attention rows f16', [S, nh * hd]) : undefined; // (S, heads * hd) f16
    const act16 = xHalves ? t16('mlp activation f16', [S, I]) : undefined; // (S, inter) f16
    let rope: RopeTables | undefined;
    if (c.rope) {
      rope = uploadRopeTables(ctx, c.rope, hd, S, p0); // (S, hd/2) f32 each, positions p0 ..
      owned.push(rope.cos, rope.sin);
    }

    const result: ForwardResult = { logits: new Float32Array(0) };
    if (opts.captureAttention) result.attn = [];
    if (opts.captureQK) { result.q = []; result.k = []; }
    if (opts.captureV) result.v = [];

    let enc = ctx.device.createCommandEncoder({ label: 'forward' });
    const rec = (...ds: Dispatch[]) => { for (const d of ds) encodeDispatch(ctx, enc, d); };
    const probe = async (layer: number, pass: 'embedding' | 'attention' | 'mlp') => {
      if (!opts.residualProbe) return;
      submit();
      await opts.residualProbe(layer, pass, x);
    };
    const submit = () => {
      ctx.device.queue.submit([enc.finish()]);
      enc = ctx.device.createCommandEncoder({ label: 'forward' });
    };
    // inp16: inp as f16 (xHalves), read instead wherever the weight is f16 (the tensor-core matmul).
    const lin = (l: Linear, inp: Tensor, out: Tensor, inp16?: Tensor) => rec(linearDispatch(model, { x: inp16 && l.weight.dtype === 'f16' ? inp16 : inp, w: l.weight, bias: l.bias, y: out }));
    const half = (inp: Tensor, y?: Tensor) => { if (y) rec(toF16Dispatch(ctx, inp, y)); };
    const norm = (n: Norm, inp: Tensor, out: Tensor) => rec(normDispatch(ctx, { kind: n.kind, x: inp, weight: n.weight, bias: n.bias, eps: n.eps, y: out }));

    rec(embeddingDispatch(ctx, { ids: idsBuf, S, wte: model.embeddings.tokens, wpe: model.embeddings.positions, pos0: p0, y: x }));
    await probe(-1, 'embedding');
    for (let l = 0; l < L; l++) {
      const b = model.blocks[l];
      const a = b.attention;
      norm(b.attnNorm, x, h);
      half(h, h16);
      lin(a.q, h, q2, h16);
      lin(a.k, h, k2, h16);
      lin(a.v, h, v2, h16);
      // Qwen3: RMSNorm over each head's hd values, rows of (S * heads, hd) in the matmul layout.
      if (a.qNorm) norm(a.qNorm, q2, qn);
      if (a.kNorm) norm(a.kNorm, k2, kn);
      rec(splitHeadsDispatch(ctx, qn, q, rope), splitHeadsDispatch(ctx, kn, k, rope), splitHeadsDispatch(ctx, v2, v));
      if (opts.attention) {
        submit();
        await opts.attention(ctx, l, q, k, v, attnOut, enc);
        submit();
      } else if (probs) {
        rec(...attentionWithProbsDispatches(ctx, { q, k, v, probs, out: attnOut }));
      } else if (model.tensorCores) {
        if (kv16) rec(...kv16.dispatches);
        rec(flashF16Dispatch(ctx, model.tensorCores, { heads: nh, kvHeads: nkv, S, d: hd }, q, kv16?.k ?? k, kv16?.v ?? v, { out: attnOut, lse: lse! }));
      } else {
        rec(flashDispatch(ctx, { heads: nh, kvHeads: nkv, S, d: hd }, q, k, v, { out: attnOut, lse: lse! }));
      }
      opts.onLayerQKV?.(l, { q, k, v, lse }, enc);
      rec(mergeHeadsDispatch(ctx, attnOut, merged));
      half(merged, merged16);
      lin(a.o, merged, proj, merged16);
      rec(addDispatch(ctx, x, proj));
      await probe(l, 'attention');
      norm(b.mlpNorm, x, h);
      half(h, h16);
      lin(b.mlp.up, h, up, h16);
      if (b.mlp.gate) {
        lin(b.mlp.gate, h, gate!, h16);
        rec(siluMulDispatch(ctx, gate!, up));
        half(gate!, act16);
        lin(b.mlp.down, gate!, proj, act16);
      } else {
        rec(geluDispatch(ctx, up, b.mlp.act === 'gelu' ? 'gelu' : 'gelu_new'));
        half(up, act16);
        lin(b.mlp.down, up, proj, act16);
      }
      rec(addDispatch(ctx, x, proj));
      await probe(l, 'mlp');
      const capturing = opts.captureAttention || opts.captureQK || opts.captureV;
      if (capturing || opts.onProgress) {
        submit();
        // readTensor submits a copy behind this layer's work, so it sees the layer's values.
        if (opts.captureAttention) result.attn!.push(await readTensor(ctx, probs!));
        if (opts.captureQK) { result.q!.push(await readTensor(ctx, q)); result.k!.push(await readTensor(ctx, k)); }
        if (opts.captureV) result.v!.push(await readTensor(ctx, v));
        if (opts.onProgress) {
          await ctx.device.queue.onSubmittedWorkDone();
          opts.onProgress(l + 1, L);
        }
      }
    }
    norm(model.finalNorm, x, h);
    // Finite check of the final hidden state: one small dispatch, read back below.
    const counter = opts.residualProbe ? undefined : createFiniteCounter(ctx);
    if (counter) { owned.push(counter); rec(nonFiniteDispatch(ctx, h, counter)); }
    submit();
    const which = opts.logits ?? 'all';
    if (which === 'all') result.logits = await lmHead(ctx, model, h, 0, S);
    else if (which === 'last') result.logits = await lmHead(ctx, model, h, S - 1, 1);
    else await ctx.device.queue.onSubmittedWorkDone();
    if (counter) {
      const fin = await readFiniteCounter(ctx, counter);
      if (fin.count > 0) throw new NonFiniteResultSignal({ where: 'final norm', count: fin.count, first: fin.first, width: H });
      const bad = hostNonFinite(result.logits);
      if (bad.count > 0) throw new NonFiniteResultSignal({ where: 'lm head', ...bad, width: c.vocabSize, row0: which === 'last' ? S - 1 : 0 });
    }
    return result;
  } finally {
    destroyAll(...owned);
  }
}

/** y = x W^T + b on the f32 kernel, or on tensor cores when W is f16 (precision f16); one row
 * (a decode step, the last position's logits) on the one-row kernel, f32 or f16 weights. */
function linearDispatch(model: Model, a: { x: Tensor; w: Tensor; bias?: Tensor; y: Tensor; xRow0?: number }): Dispatch {
  if (a.y.shape[0] === 1) return gemvDispatch(model.ctx, a);
  if (a.w.dtype === 'f16') {
    if (!model.tensorCores) throw new Error(`forward: ${a.w.label} is f16 but the model has no tensor-core mode.`);
    return matmulF16Dispatch(model.ctx, model.tensorCores, a);
  }
  return matmulDispatch(model.ctx, a);
}

/** logits of rows first .. first + S - 1: (S, vocab) = h Wlm^T, in row chunks of at most
 * LOGITS_CHUNK_BYTES on the GPU. */
async function lmHead(ctx: GpuContext, model: Model, h: Tensor, first: number, S: number): Promise<Float32Array> {
  const vocab = model.config.vocabSize;
  const limit = Math.min(LOGITS_CHUNK_BYTES, ctx.device.limits.maxStorageBufferBindingSize);
  const rows = Math.max(1, Math.min(S, Math.floor(limit / (vocab * 4))));
  const logits = new Float32Array(S * vocab);
  const chunk = createTensor(ctx, 'logits chunk', [rows, vocab]); // (rows, vocab) f32
  try {
    for (let r0 = 0; r0 < S; r0 += rows) {
      const n = Math.min(rows, S - r0);
      const y = n === rows ? chunk : { ...chunk, shape: [n, vocab] };
      const enc = ctx.device.createCommandEncoder({ label: 'lm head' });
      encodeDispatch(ctx, enc, linearDispatch(model, { x: h, w: model.lmHead.weight, bias: model.lmHead.bias, y, xRow0: first + r0 }));
      ctx.device.queue.submit([enc.finish()]);
      logits.set(await readTensor(ctx, y), r0 * vocab);
    }
  } finally {
    destroyAll(chunk);
  }
  return logits;
}
