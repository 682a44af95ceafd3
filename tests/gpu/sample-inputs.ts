// Inputs for the attention / SampleAttention GPU tests (shared with the kernel stories).
export { attentionInputs, type AttentionInputs } from '../../src/util/attention-inputs';
