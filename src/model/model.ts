// The model on the GPU, nested the way the Hugging Face modules nest, so a reader can map every
// tensor to its checkpoint name (see weight-plan.ts). Weights are f32 on the GPU (precision f32,
// the exact path); with precision f16 the matrices of the Linear layers and the LM head are f16
// for the tensor-core kernels (gpu/tensorcore), and norms, biases and embeddings stay f32.
import type { GpuContext } from '../../gpu/device';
import { numel, type Tensor } from '../../gpu/tensor';
import type { NormKind } from '../../gpu/forward/norm';
import type { TensorCoreMode } from '../../gpu/tensorcore/support';
import type { ModelConfig } from './config';

/** y = x W^T + b: weight (out, in), the Linear layout (GPT-2's Conv1D weights are transposed on load). */
export interface Linear {
  weight: Tensor;
  bias?: Tensor;
}

export interface Norm {
  kind: NormKind;
  /** (n) */
  weight: Tensor;
  /** (n), LayerNorm only */
  bias?: Tensor;
  eps: number;
}

export interface Attention {
  /** weight (heads * hd, hidden) */
  q: Linear;
  /** weight (kvHeads * hd, hidden) */
  k: Linear;
  /** weight (kvHeads * hd, hidden) */
  v: Linear;
  /** weight (hidden, heads * hd) */
  o: Linear;
  /** Qwen3: RMSNorm (hd) on each query head before RoPE */
  qNorm?: Norm;
  /** Qwen3: RMSNorm (hd) on each key head before RoPE */
  kNorm?: Norm;
}

export interface Mlp {
  /** SwiGLU only: weight (inter, hidden) */
  gate?: Linear;
  /** weight (inter, hidden); GPT-2's c_fc */
  up: Linear;
  /** weight (hidden, inter); GPT-2's mlp.c_proj */
  down: Linear;
  act: ModelConfig['act'];
}

export interface Block {
  attnNorm: Norm;
  attention: Attention;
  mlpNorm: Norm;
  mlp: Mlp;
}

export type Precision = 'f32' | 'f16';

export interface Model {
  ctx: GpuContext;
  config: ModelConfig;
  embeddings: {
    /** (vocab, hidden) */
    tokens: Tensor;
    /** (maxPositions, hidden): GPT-2's learned positions */
    positions?: Tensor;
  };
  blocks: Block[];
  finalNorm: Norm;
  /** weight (vocab, hidden); the token embedding itself when tied */
  lmHead: Linear;
  tiedEmbeddings: boolean;
  /** f32: the exact kernels; f16: tensor cores for the matmuls and attention (f32 accumulation). */
  precision: Precision;
  /** How the tensor-core kernels run (set with precision f16). */
  tensorCores?: TensorCoreMode;
  /** Frees every GPU buffer of the model; the model is unusable afterwards. */
  dispose(): void;
}

/** Every distinct weight tensor of the model (a tied LM head counted once). */
export function modelTensors(m: Pick<Model, 'embeddings' | 'blocks' | 'finalNorm' | 'lmHead'>): Tensor[] {
  const out = new Set<Tensor>();
  const add = (t?: Tensor) => t && out.add(t);
  const lin = (l?: Linear) => { add(l?.weight); add(l?.bias); };
  const norm = (n?: Norm) => { add(n?.weight); add(n?.bias); };
  add(m.embeddings.tokens);
  add(m.embeddings.positions);
  for (const b of m.blocks) {
    norm(b.attnNorm);
    lin(b.attention.q); lin(b.attention.k); lin(b.attention.v); lin(b.attention.o);
    norm(b.attention.qNorm); norm(b.attention.kNorm);
    norm(b.mlpNorm);
    lin(b.mlp.gate); lin(b.mlp.up); lin(b.mlp.down);
  }
  norm(m.finalNorm);
  lin(m.lmHead);
  return [...out];
}

/** Number of parameters (a tied embedding counted once, also when the f16 path keeps an f16 copy
 * of it for the LM head), as transformers' num_parameters() counts. */
export function countParameters(m: Pick<Model, 'embeddings' | 'blocks' | 'finalNorm' | 'lmHead'> & { tiedEmbeddings?: boolean }): number {
  const copy = m.tiedEmbeddings && m.lmHead.weight !== m.embeddings.tokens ? m.lmHead.weight : undefined;
  return modelTensors(m).filter((t) => t !== copy).reduce((s, t) => s + numel(t.shape), 0);
}
