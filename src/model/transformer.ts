// The model on the GPU: a nested structure that mirrors Hugging Face's (embeddings -> blocks
// [attention {q, k, v, o (+ q/k norm)}, mlp {gate, up, down}] -> final norm -> lm_head), built
// from any WeightSource, and a forward pass that runs as a plain list of GPU passes per layer.
import type { GpuContext } from '../../gpu/device';
import { run, type Dispatch } from '../../gpu/kernel';
import { createTensor, destroyAll, readTensor, uploadTensor, type Tensor } from '../../gpu/tensor';
import { Usage } from '../../gpu/flags';
import type { GpuTimer } from '../../gpu/timing';
import { matmulDispatch } from '../../gpu/model/matmul';
import { normDispatch, type NormWeights } from '../../gpu/model/norm';
import { mergeHeadsDispatch, ropeTables, splitHeadsDispatch, MAX_HEAD_DIM } from '../../gpu/model/heads';
import { activationDispatch, addDispatch, embedDispatch } from '../../gpu/model/elementwise';
import { probsDispatch } from '../../gpu/model/probs';
import { createDenseOutputs, destroyDenseOutputs, flashDispatch } from '../../gpu/attention/flash';
import type { ModelConfig, WeightSource } from './config';
import { expectTensor } from './loader/safetensors-weights';
import { toFloat32 } from './loader/dtypes';
import { hfNames } from './names';

export interface Linear {
  /** (out, in) f32 */
  weight: Tensor;
  /** (out) f32 */
  bias?: Tensor;
}

export interface Block {
  attnNorm: NormWeights;
  attention: { q: Linear; k: Linear; v: Linear; o: Linear; qNorm?: NormWeights; kNorm?: NormWeights };
  mlpNorm: NormWeights;
  mlp: { gate?: Linear; up: Linear; down: Linear };
}

export interface Model {
  ctx: GpuContext;
  config: ModelConfig;
  /** (vocab, hidden) f32 */
  embed: Tensor;
  /** (maxPositions, hidden) f32: GPT-2's learned positions */
  positions?: Tensor;
  blocks: Block[];
  finalNorm: NormWeights;
  /** (vocab, hidden) f32; the embedding itself when tied */
  lmHead: Linear;
  parameters: number;
  dispose(): void;
}

/** Replaces dense attention for one layer: reads q (H, S, hd), k and v (KV, S, hd), writes out (H, S, hd). */
export type AttentionOverride = (layer: number, q: Tensor, k: Tensor, v: Tensor, out: Tensor) => Promise<void>;

export interface ForwardOptions {
  captureAttention?: boolean;
  captureQK?: boolean;
  attention?: AttentionOverride;
  onProgress?: (layer: number, of: number) => void;
  /** Checked between layers: a cancelled run stops with an AbortError. */
  signal?: AbortSignal;
  /** Times every pass with timestamp queries (benchmarks); needs room for ~20 passes per layer. */
  timer?: GpuTimer;
}

export interface ForwardResult {
  /** (S, vocab) */
  logits: Float32Array;
  /** per layer (heads, S, S) */
  attn?: Float32Array[];
  /** per layer (heads, S, hd), post-RoPE */
  q?: Float32Array[];
  /** per layer (kvHeads, S, hd), post-RoPE */
  k?: Float32Array[];
}

export function buildModel(ctx: GpuContext, config: ModelConfig, weights: WeightSource): Model {
  const c = config;
  const E = c.hiddenSize, hd = c.headDim, H = c.numHeads, KV = c.numKvHeads, I = c.intermediateSize, V = c.vocabSize;
  if (hd > MAX_HEAD_DIM) throw new Error(`${c.modelType}: head_dim ${hd} is above the supported ${MAX_HEAD_DIM}`);
  const names = hfNames(c, weights);
  const owned: Tensor[] = [];
  let parameters = 0;
  const gpt2 = c.family === 'gpt2';
  const load = (name: string, shape: number[], transpose = false): Tensor => {
    const t = expectTensor(weights, name, transpose ? [shape[1], shape[0]] : shape);
    let data = toFloat32(t);
    if (transpose) data = transposed(data, shape[1], shape[0]);
    parameters += data.length;
    const tensor = uploadTensor(ctx, name, shape, data);
    owned.push(tensor);
    return tensor;
  };
  const norm = (prefix: string, n: number, eps = c.normEps): NormWeights => ({
    kind: c.norm,
    weight: load(`${prefix}.weight`, [n]),
    bias: c.norm === 'layer' ? load(`${prefix}.bias`, [n]) : undefined,
    eps,
  });
  // GPT-2's Conv1D stores (in, out): transposed once here into Linear's (out, in).
  const linear = (prefix: string, out: number, inp: number, bias: boolean): Linear => ({
    weight: load(`${prefix}.weight`, [out, inp], gpt2),
    bias: bias ? load(`${prefix}.bias`, [out]) : undefined,
  });

  const embed = load(names.embed, [V, E]); // (vocab, hidden) f32
  const positions = gpt2 ? load(names.positions!, [c.maxPositions, E]) : undefined; // (positions, hidden) f32
  const blocks: Block[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const n = names.layer(l);
    let attention: Block['attention'];
    if (gpt2) {
      // c_attn fuses q, k, v: (E, 3E) in Conv1D layout; split into three Linears.
      const w = toFloat32(expectTensor(weights, `${n.prefix}.attn.c_attn.weight`, [E, 3 * E]));
      const b = toFloat32(expectTensor(weights, `${n.prefix}.attn.c_attn.bias`, [3 * E]));
      const wt = transposed(w, E, 3 * E); // (3E, E)
      parameters += w.length + b.length;
      const part = (i: number, what: string): Linear => {
        const weight = uploadTensor(ctx, `${n.prefix}.attn.${what}`, [E, E], wt.subarray(i * E * E, (i + 1) * E * E)); // (E, E) f32
        const bias = uploadTensor(ctx, `${n.prefix}.attn.${what}.bias`, [E], b.subarray(i * E, (i + 1) * E)); // (E) f32
        owned.push(weight, bias);
        return { weight, bias };
      };
      attention = { q: part(0, 'q'), k: part(1, 'k'), v: part(2, 'v'), o: linear(`${n.prefix}.attn.c_proj`, E, E, true) };
    } else {
      const a = `${n.prefix}.self_attn`;
      attention = {
        q: linear(`${a}.q_proj`, H * hd, E, c.qkvBias),
        k: linear(`${a}.k_proj`, KV * hd, E, c.qkvBias),
        v: linear(`${a}.v_proj`, KV * hd, E, c.qkvBias),
        o: linear(`${a}.o_proj`, E, H * hd, c.oBias),
        qNorm: c.qkNorm ? { kind: 'rms', weight: load(`${a}.q_norm.weight`, [hd]), eps: c.normEps } : undefined,
        kNorm: c.qkNorm ? { kind: 'rms', weight: load(`${a}.k_norm.weight`, [hd]), eps: c.normEps } : undefined,
      };
    }
    const mlp: Block['mlp'] = gpt2
      ? { up: linear(`${n.prefix}.mlp.c_fc`, I, E, true), down: linear(`${n.prefix}.mlp.c_proj`, E, I, true) }
      : { gate: linear(`${n.prefix}.mlp.gate_proj`, I, E, c.mlpBias), up: linear(`${n.prefix}.mlp.up_proj`, I, E, c.mlpBias), down: linear(`${n.prefix}.mlp.down_proj`, E, I, c.mlpBias) };
    blocks.push({ attnNorm: norm(n.attnNorm, E), attention, mlpNorm: norm(n.mlpNorm, E), mlp });
  }
  const finalNorm = norm(names.finalNorm, E);
  const lmHead: Linear = names.lmHead ? { weight: load(names.lmHead, [V, E]) } : { weight: embed };
  return { ctx, config, embed, positions, blocks, finalNorm, lmHead, parameters, dispose: () => destroyAll(...owned) };
}

function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Runs the prefill of `ids` and returns the logits (and captures). */
export async function forward(model: Model, ids: Int32Array, opts: ForwardOptions = {}): Promise<ForwardResult> {
  const { ctx, config: c } = model;
  const S = ids.length;
  const E = c.hiddenSize, hd = c.headDim, H = c.numHeads, KV = c.numKvHeads, I = c.intermediateSize, V = c.vocabSize;
  if (S < 1) throw new Error('forward: no tokens');
  if (S > c.maxPositions) throw new Error(`forward: ${S} tokens but the model has ${c.maxPositions} positions`);
  for (let i = 0; i < S; i++) if (ids[i] < 0 || ids[i] >= V) throw new Error(`forward: token id ${ids[i]} at position ${i} is outside the vocabulary (${V})`);
  const t: Tensor[] = [];
  const make = (label: string, shape: number[]) => {
    const x = createTensor(ctx, label, shape);
    t.push(x);
    return x;
  };
  const idsBuf = ctx.device.createBuffer({ label: 'input ids', size: Math.max(4, S * 4), usage: Usage.STORAGE | Usage.COPY_DST }); // (S) i32
  ctx.device.queue.writeBuffer(idsBuf, 0, ids.buffer, ids.byteOffset, S * 4);
  const x = make('residual a', [S, E]); // (S, E) f32
  const x2 = make('residual b', [S, E]); // (S, E) f32
  const h = make('normed', [S, E]); // (S, E) f32
  const q2 = make('q rows', [S, H * hd]); // (S, H*hd) f32
  const k2 = make('k rows', [S, KV * hd]); // (S, KV*hd) f32
  const v2 = make('v rows', [S, KV * hd]); // (S, KV*hd) f32
  const qh = make('q', [H, S, hd]); // (H, S, hd) f32, post-RoPE
  const kh = make('k', [KV, S, hd]); // (KV, S, hd) f32, post-RoPE
  const vh = make('v', [KV, S, hd]); // (KV, S, hd) f32
  const merged = make('attention rows', [S, H * hd]); // (S, H*hd) f32
  const o = make('attention out', [S, E]); // (S, E) f32
  const up = make('mlp up', [S, I]); // (S, I) f32
  const gate = c.act === 'silu' ? make('mlp gate', [S, I]) : undefined; // (S, I) f32
  const act = make('mlp act', [S, I]); // (S, I) f32
  const down = make('mlp down', [S, E]); // (S, E) f32
  const logits = make('logits', [S, V]); // (S, V) f32
  const dense = createDenseOutputs(ctx, { heads: H, kvHeads: KV, S, d: hd }); // out (H, S, hd), lse (H, S)
  const probs = opts.captureAttention ? make('attention map', [H, S, S]) : undefined; // (H, S, S) f32
  const rope = c.rope ? ropeTables(ctx, c.rope, hd, S) : undefined; // (S, hd/2) f32 each
  if (rope) t.push(rope.cos, rope.sin);
  const result: ForwardResult = { logits: new Float32Array(0), attn: probs ? [] : undefined, q: opts.captureQK ? [] : undefined, k: opts.captureQK ? [] : undefined };
  try {
    await run(ctx, [embedDispatch(ctx, model.embed, idsBuf, S, x, model.positions)], opts.timer);
    for (let l = 0; l < model.blocks.length; l++) {
      if (opts.signal?.aborted) throw new DOMException('forward cancelled', 'AbortError');
      const b = model.blocks[l];
      const a = b.attention;
      const pre: Dispatch[] = [
        normDispatch(ctx, b.attnNorm, x, h, S),
        matmulDispatch(ctx, h, a.q.weight, a.q.bias, q2),
        matmulDispatch(ctx, h, a.k.weight, a.k.bias, k2),
        matmulDispatch(ctx, h, a.v.weight, a.v.bias, v2),
        splitHeadsDispatch(q2, qh, S, H, hd, { norm: a.qNorm && { weight: a.qNorm.weight, eps: a.qNorm.eps }, rope }),
        splitHeadsDispatch(k2, kh, S, KV, hd, { norm: a.kNorm && { weight: a.kNorm.weight, eps: a.kNorm.eps }, rope }),
        splitHeadsDispatch(v2, vh, S, KV, hd, {}),
      ];
      const scale = 1 / Math.sqrt(hd);
      const shape = { heads: H, kvHeads: KV, S, d: hd };
      // The dense pass also runs under an override when the map is wanted: the map is full attention.
      if (!opts.attention || probs) pre.push(flashDispatch(ctx, shape, qh, kh, vh, dense, scale));
      if (probs) pre.push(probsDispatch(qh, kh, dense.lse, probs, scale));
      await run(ctx, pre, opts.timer);
      if (opts.attention) await opts.attention(l, qh, kh, vh, dense.out);
      const post: Dispatch[] = [
        mergeHeadsDispatch(dense.out, merged, S, H, hd),
        matmulDispatch(ctx, merged, a.o.weight, a.o.bias, o),
        addDispatch(ctx, x, o, x2),
        normDispatch(ctx, b.mlpNorm, x2, h, S),
        matmulDispatch(ctx, h, b.mlp.up.weight, b.mlp.up.bias, up),
        ...(b.mlp.gate && gate
          ? [matmulDispatch(ctx, h, b.mlp.gate.weight, b.mlp.gate.bias, gate), activationDispatch(ctx, 'silu_mul', gate, up, act)]
          : [activationDispatch(ctx, c.act === 'gelu' ? 'gelu_erf' : 'gelu_tanh', up, undefined, act)]),
        matmulDispatch(ctx, act, b.mlp.down.weight, b.mlp.down.bias, down),
        addDispatch(ctx, x2, down, x),
      ];
      await run(ctx, post, opts.timer);
      if (probs) result.attn!.push(await readTensor(ctx, probs));
      if (opts.captureQK) {
        result.q!.push(await readTensor(ctx, qh));
        result.k!.push(await readTensor(ctx, kh));
      }
      opts.onProgress?.(l + 1, model.blocks.length);
    }
    await run(ctx, [normDispatch(ctx, model.finalNorm, x, h, S), matmulDispatch(ctx, h, model.lmHead.weight, model.lmHead.bias, logits)], opts.timer);
    result.logits = await readTensor(ctx, logits);
    return result;
  } finally {
    destroyAll(...t, idsBuf);
    destroyDenseOutputs(dense);
  }
}
