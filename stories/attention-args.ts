// Controls shared by the attention-family stories: the kernel args plus grouped-query kv heads.
import { DEFAULT_ARGS, kernelArgTypes, type KernelArgs } from './kernel-harness';

export interface AttentionArgs extends KernelArgs {
  /** kv heads; query head h reads kv head floor(h / (heads / kvHeads)). */
  kvHeads: number;
}

export const ATTENTION_ARGS: AttentionArgs = { ...DEFAULT_ARGS, kvHeads: 1 };

export const attentionArgTypes = {
  ...kernelArgTypes,
  kvHeads: { control: { type: 'number', min: 1, max: 8, step: 1 }, description: 'kv heads (grouped-query attention); must divide heads' },
} as const;

export const shapeOf = (a: AttentionArgs) => ({ heads: a.heads, kvHeads: a.kvHeads, S: a.S, d: a.d });

export const windowRatioArg = { control: { type: 'range', min: 0, max: 1, step: 0.01 }, description: 'local window as a share of S' } as const;
