// What every model verb does first: resolve --model, load the checkpoint, read the text,
// tokenize, get the GPU and build the model on it. Progress goes to stderr.
import { readFileSync, existsSync } from 'node:fs';
import { loadCheckpoint, type Checkpoint } from '../src/model/loader/checkpoint';
import { nodeFolder } from '../src/model/loader/node-folder';
import { nodeGpu } from '../gpu/node-gpu';
import { describeAdapter, type GpuContext } from '../gpu/device';
import { buildModel, type Model } from '../src/model/forward';
import { resolveModelDir } from './model-dir';
import { planWeights } from '../src/model/weight-plan';
import { UsageError } from './args';
import { InputError } from '../gpu/errors';
import { requireTensorCores } from '../gpu/tensorcore/support';
import type { Precision } from '../src/model/model';
import { gpuLimits, guardGpuMemory, positionsError, type MemoryEstimate, type MemoryNeeds } from '../src/model/memory-plan';

export interface Session {
  checkpoint: Checkpoint;
  ctx: GpuContext;
  model: Model;
  text: string;
  ids: Int32Array;
  adapter: string;
  /** The memory guard's estimate for this session's prefill. */
  memory: MemoryEstimate;
}

export function readText(file: string): string {
  if (!existsSync(file)) throw new InputError(`--text ${file}: no such file. Give a UTF-8 text file.`, { file });
  const text = readFileSync(file, 'utf8');
  if (text.length === 0) throw new InputError(`--text ${file} is empty: give a text with at least one token.`, { file });
  return text;
}

/** `windowed`: the caller runs the text in windows (perplexity), so it may exceed the context.
 * `precision` f16 builds the model for the tensor cores, or fails naming the missing features.
 * `memory`: what the verb's prefill needs beyond a plain forward with all logits (a KV cache,
 * SampleAttention, fewer logits, another length), or a function of the text's token count giving
 * it; checked before the weights are uploaded. */
export async function openSession(modelArg: string, textFile: string | undefined, maxTokens?: number, windowed = false, precision: Precision = 'f32', memory: Partial<MemoryNeeds> | ((S: number) => Partial<MemoryNeeds>) = {}): Promise<Session> {
  const dir = resolveModelDir(modelArg);
  let lastPct = -1;
  const checkpoint = await loadCheckpoint(nodeFolder(dir), (done, total) => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    if (pct >= lastPct + 25) {
      lastPct = pct;
      process.stderr.write(`loading ${dir}: ${(done / 2 ** 20).toFixed(1)} of ${(total / 2 ** 20).toFixed(1)} MiB\n`);
    }
  });
  const text = textFile ? readText(textFile) : '';
  let ids = Int32Array.from(checkpoint.tokenizer.encode(text));
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new UsageError(`--max-tokens must be a positive integer, got ${maxTokens}.`);
    ids = ids.slice(0, maxTokens);
  }
  if (textFile && ids.length === 0) throw new InputError(`--text ${textFile} gives no tokens: give a longer text.`, { file: textFile });
  if (!windowed && ids.length > checkpoint.config.maxPositions) {
    const max = checkpoint.config.maxPositions;
    throw positionsError(`--text ${textFile}`, ids.length, max, `pass --max-tokens ${max} or a shorter text.`, textFile);
  }
  // Shapes against config.json before the GPU starts: a mismatched checkpoint fails at once.
  planWeights(checkpoint.config, checkpoint.weights);
  const ctx = await nodeGpu();
  const adapter = describeAdapter(ctx.adapter);
  const tensorCores = precision === 'f16' ? requireTensorCores(ctx, adapter) : undefined;
  const S = Math.max(1, Math.min(ids.length, checkpoint.config.maxPositions));
  const est = guardGpuMemory(checkpoint.config, { S, precision, logits: 'all', ...(typeof memory === 'function' ? memory(S) : memory) }, gpuLimits(ctx.device));
  const model = buildModel(ctx, checkpoint.config, checkpoint.weights, { precision, tensorCores });
  return { checkpoint, ctx, model, text, ids, adapter, memory: est };
}
