// The one description of a model the rest of the code reads. Loaders turn each family's
// config.json (current and older transformers keys) into this; the forward pass reads only this.

/** The model families the loader reads and the config file names (one list for both). */
export const FAMILIES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt2'] as const;
export type Family = (typeof FAMILIES)[number];

export interface RopeConfig {
  theta: number;
  /** 'default' is plain RoPE; 'llama3' rescales low frequencies (Llama 3.1+). */
  type: 'default' | 'llama3';
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

export interface ModelConfig {
  family: Family;
  /** config.json's model_type, kept for messages. */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  norm: 'rms' | 'layer';
  normEps: number;
  /** MLP: 'silu' means gated SwiGLU (gate, up, down); 'gelu_new'/'gelu' a plain 2-layer MLP (GPT-2). */
  act: 'silu' | 'gelu_new' | 'gelu';
  /** null: learned absolute positions (GPT-2). */
  rope: RopeConfig | null;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** Qwen3: RMSNorm over head_dim on q and k before RoPE. */
  qkNorm: boolean;
  tiedEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenId?: number;
}

/** A tensor as stored in a checkpoint, not yet on the GPU. */
export interface HostTensor {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';
  shape: number[];
  /** Raw little-endian bytes of exactly numel * itemsize. */
  bytes: Uint8Array;
}

/** Where the forward pass gets weights: a safetensors file, shards, or test data. */
export interface WeightSource {
  names(): string[];
  /** Throws an error naming the tensor, the file and the expected shape when missing. */
  get(name: string): HostTensor;
  has(name: string): boolean;
}
