// `sa-studio ttft`: time to first token, the paper's headline figure: the whole-model prefill (all
// layers, through the last position's logits) with dense attention and with SampleAttention (stage
// 1, stage 2 and the sparse pass only: no dense pass, no measures), the median wall clock of
// --repeats runs after one warm-up each, and how far SampleAttention moves the final position's
// next-token distribution (KL(dense || sparse), top-1 agreement). --model random:1b runs a random
// Llama-3.2-1B-shaped model for speed alone (random:100m the benchmarks' 101M shape).
import { writeFileSync } from 'node:fs';
import { HELP_FLAG, parseFlags, printedHelp, table, UsageError, type FlagSpec } from './args';
import { PRECISION_FLAG, flagPrecision } from './precision-flag';
import { CONFIG_FLAG, sampleChoice } from './attention-flags';
import { numberList } from './eval';
import { openSession } from './session';
import { nodeGpu } from '../gpu/node-gpu';
import { describeAdapter, type GpuContext } from '../gpu/device';
import { median } from '../gpu/timing';
import { LimitError } from '../gpu/errors';
import { requireTensorCores } from '../gpu/tensorcore/support';
import { forward, type AttentionOverride, type Model } from '../src/model/forward';
import type { Precision } from '../src/model/model';
import type { ModelConfig } from '../src/model/config';
import { argmax, klDivergence } from '../src/model/metrics';
import { gpuLimits, guardGpuMemory } from '../src/model/memory-plan';
import { headShape } from '../src/sampleattention/studies/tune';
import { sampleAttentionPrefill } from '../src/sampleattention/gpu-run/prefill-attention';
import { benchConfig, randomModel } from '../bench/forward';
import { BENCH_LLAMA, BENCH_LLAMA_1B } from '../bench/forward-suite';

const SPEC: FlagSpec = {
  ...PRECISION_FLAG,
  model: { kind: 'string', required: true, help: 'checkpoint folder, "default", or random:1b / random:100m (random weights, speed only)' },
  text: { kind: 'string', help: 'UTF-8 text file (required with a checkpoint); shorter than a length, its tokens are repeated to reach it' },
  lengths: { kind: 'string', required: true, help: 'comma-separated prefill lengths in tokens, e.g. 8192,16384,32768' },
  ...CONFIG_FLAG,
  repeats: { kind: 'number', help: 'timed prefills per length and attention, after one warm-up (default 3)' },
  json: { kind: 'string', help: 'also write the figures as JSON here' },
  ...HELP_FLAG,
};

const SUMMARY = 'time to first token (whole-model prefill) dense vs SampleAttention, with KL and top-1 agreement of the final logits';

const RANDOM_SHAPES = { '1b': BENCH_LLAMA_1B, '100m': BENCH_LLAMA } as const;

export interface TtftRow {
  length: number;
  /** the text's tokens were repeated to reach the length */
  tiled: boolean;
  denseMs: number;
  sparseMs: number;
  denseAllMs: number[];
  sparseAllMs: number[];
  speedup: number;
  /** KL(dense || sparse) of the final position's next-token distribution, nats */
  kl: number;
  top1Agree: boolean;
}

export interface TtftReport {
  model: string;
  adapter: string;
  precision: Precision;
  attention: string;
  repeats: number;
  /** what the ids are: the text's tokens, repeated where short, or a fixed pattern (random model) */
  ids: string;
  rows: TtftRow[];
}

/** `base` repeated (tiled) to exactly `length` tokens. */
export function tileTokens(base: Int32Array, length: number): Int32Array {
  if (base.length === 0) throw new RangeError('tileTokens: no tokens to repeat.');
  return Int32Array.from({ length }, (_, i) => base[i % base.length]);
}

interface Loaded { model: Model; name: string; config: ModelConfig; ctx: GpuContext; adapter: string; base: Int32Array | null }

async function load(f: Record<string, unknown>, precision: Precision, maxLength: number): Promise<Loaded> {
  const m = f.model as string;
  const memory = { S: maxLength, logits: 'last' as const, sampleAttention: 1 };
  if (m.startsWith('random:')) {
    const key = m.slice('random:'.length) as keyof typeof RANDOM_SHAPES;
    const shape = RANDOM_SHAPES[key];
    if (!shape) throw new UsageError(`ttft: --model ${m}: random shapes are ${Object.keys(RANDOM_SHAPES).map((k) => `random:${k}`).join(', ')}.`);
    if (f.text !== undefined) throw new UsageError('ttft: a random model takes no --text (its ids are a fixed pattern).');
    const ctx = await nodeGpu();
    const adapter = describeAdapter(ctx.adapter);
    const tc = precision === 'f16' ? requireTensorCores(ctx, adapter) : undefined;
    const config = benchConfig({ ...shape, S: maxLength, repeats: 1 });
    guardGpuMemory(config, { ...memory, precision }, gpuLimits(ctx.device));
    return { model: await randomModel(ctx, config, tc), name: `random Llama (${m})`, config, ctx, adapter, base: null };
  }
  if (f.text === undefined) throw new UsageError(`ttft: --text is required with a checkpoint (${SPEC.text.help}).`);
  // windowed: the text may be longer or shorter than the lengths; it is cut or tiled per length.
  const s = await openSession(m, f.text as string, undefined, true, precision, memory);
  return { model: s.model, name: s.checkpoint.name, config: s.checkpoint.config, ctx: s.ctx, adapter: s.adapter, base: s.ids };
}

/** Median wall clock of `repeats` prefills after one warm-up, and the last run's logits. */
async function timePrefill(model: Model, ids: Int32Array, repeats: number, attention: () => { attention?: AttentionOverride; release(): void }): Promise<{ ms: number; all: number[]; logits: Float32Array }> {
  const all: number[] = [];
  let logits: Float32Array = new Float32Array(0);
  for (let r = 0; r <= repeats; r++) {
    const a = attention();
    try {
      const t0 = performance.now();
      logits = (await forward(model, ids, { logits: 'last', attention: a.attention })).logits;
      if (r > 0) all.push(performance.now() - t0);
    } finally {
      a.release();
    }
  }
  return { ms: median(all), all, logits };
}

export async function ttftCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'ttft', SUMMARY, SPEC)) return 0;
  const f = parseFlags('ttft', argv, SPEC);
  const lengths = numberList('lengths', f.lengths as string, (x) => Number.isInteger(x) && x >= 2, 'a whole number of at least 2 tokens');
  const repeats = (f.repeats as number | undefined) ?? 3;
  if (!Number.isInteger(repeats) || repeats < 1) throw new UsageError(`ttft: --repeats must be a whole number >= 1, got ${repeats}.`);
  const precision = flagPrecision('ttft', f);
  const sample = sampleChoice('ttft', f);
  const L = await load(f, precision, Math.max(...lengths));
  const c = L.config;
  const report: TtftReport = { model: L.name, adapter: L.adapter, precision, attention: sample.describe, repeats, ids: L.base ? 'the text\'s tokens' : 'a fixed pattern (i * 7919 mod vocab)', rows: [] };
  try {
    const params = sample.params({ name: L.name, config: c });
    const shape = { ...headShape(c), tensorCores: L.model.tensorCores };
    for (const length of lengths) {
      if (length > c.maxPositions) {
        if (!c.rope) throw new LimitError(`ttft: length ${length} is past the model's ${c.maxPositions} learned positions.`, length, c.maxPositions);
        process.stderr.write(`ttft: length ${length} is past the model's ${c.maxPositions} positions (max_position_embeddings): RoPE runs there, but the agreement figures are for a context it was not trained on.\n`);
      }
      const base = L.base ?? Int32Array.from({ length }, (_, i) => (i * 7919) % c.vocabSize);
      const tiled = base.length < length;
      if (tiled) process.stderr.write(`ttft: the text has ${base.length} tokens; repeated to ${length}.\n`);
      const ids = tiled ? tileTokens(base, length) : base.slice(0, length);
      process.stderr.write(`ttft: ${length} tokens, dense\n`);
      const dense = await timePrefill(L.model, ids, repeats, () => ({ release: () => undefined }));
      process.stderr.write(`ttft: ${length} tokens, SampleAttention\n`);
      const sparse = await timePrefill(L.model, ids, repeats, () => sampleAttentionPrefill(L.ctx, shape, params));
      const V = c.vocabSize;
      report.rows.push({
        length, tiled, denseMs: dense.ms, sparseMs: sparse.ms, denseAllMs: dense.all, sparseAllMs: sparse.all, speedup: dense.ms / sparse.ms,
        kl: klDivergence(dense.logits, sparse.logits, 0, V), top1Agree: argmax(dense.logits, 0, V) === argmax(sparse.logits, 0, V),
      });
    }
  } finally {
    L.model.dispose();
  }
  console.log(formatTtft(report));
  if (f.json !== undefined) {
    writeFileSync(f.json as string, JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(`ttft: wrote ${f.json}\n`);
  }
  return 0;
}

export function formatTtft(r: TtftReport): string {
  const rows = r.rows.map((x) => [
    String(x.length) + (x.tiled ? '*' : ''), x.denseMs.toFixed(1), x.sparseMs.toFixed(1), `${x.speedup.toFixed(2)}x`, x.kl.toExponential(3), x.top1Agree ? 'yes' : 'no',
  ]);
  const out = [
    `model: ${r.model}; adapter: ${r.adapter}; precision ${r.precision}`,
    `attention: ${r.attention}; median of ${r.repeats} prefills after a warm-up (wall clock through the last position's logits)`,
    '',
    ...table(['tokens', 'dense ms', 'sparse ms', 'speedup', 'KL final', 'top-1 same'], rows),
  ];
  if (r.rows.some((x) => x.tiled)) out.push('* the text\'s tokens repeated to reach the length');
  if (!r.ids.startsWith('the text')) out.push(`ids: ${r.ids}; random weights: the times count, the agreement figures do not`);
  return out.join('\n');
}
