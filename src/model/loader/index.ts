// The loader's browser-safe surface. nodeFolder lives in ./node-folder (it imports node:fs).
export { browserFiles, memoryFiles, type CheckpointFiles, type ProgressFn } from './files';
export { loadCheckpoint, type Checkpoint } from './checkpoint';
export { parseModelConfig, SUPPORTED_MODEL_TYPES, SUPPORTED_ROPE_TYPES } from './model-config';
export { loadSafetensorsWeights, expectTensor, type CheckpointWeights } from './safetensors-weights';
export { parseSafetensors, writeSafetensors, entryToTensor, type TensorToWrite } from './safetensors-format';
export { toFloat32, toInt32, f32ToBf16Bits, f32ToF16Bits, bf16BitsToF32, f16BitsToF32 } from './dtypes';
export { loadTokenizer, type Tokenizer } from './tokenizer/tokenizer';
