// `sa-studio bench`: kernel timings from timestamp queries (medians), printed as a table and
// optionally written as JSON. Attention: dense flash vs SampleAttention stages + sparse, with the
// recall and density of the timed mask beside each time; --variant blocks adds the blocks
// variant's stages + block-sparse pass at the same S and inputs, side by side (the tokens columns
// then run the spec's default tokens setting, since tokens flags are refused with --variant blocks). --forward: prefill tokens/s of a random
// Llama-shaped model and the matmul kernel's TFLOP/s.
import { writeFileSync } from 'node:fs';
import { parseFlags, table, usage, UsageError, type FlagSpec } from './args';
import { requireTensorCores } from '../gpu/tensorcore/support';
import type { AttendKernel } from '../gpu/tensorcore/attention';
import { ROW_SPLITS_MAX } from '../gpu/sample/stage1';
import { nodeGpu } from '../gpu/node-gpu';
import { describeAdapter } from '../gpu/device';
import { SAMPLE_FLAGS, flagParams } from './sample-flags';
import { VARIANT_FLAGS, blocksFlagParams, describeSetting, flagVariant } from './variant-flags';
import { DEFAULT_PARAMS } from '../src/sampleattention/spec/params';
import { blocksSetting } from '../src/sampleattention/spec/setting';

const SPEC: FlagSpec = {
  S: { kind: 'string', help: 'comma-separated sequence lengths (default 1024,4096,16384,32768,65536)' },
  heads: { kind: 'number', help: 'query heads (default 8)' },
  'kv-heads': { kind: 'number', help: 'key/value heads (default = heads)' },
  d: { kind: 'string', help: 'comma-separated head dims (default 64,128)' },
  pattern: { kind: 'string', help: 'random | structured (default structured: sink keys, real-model-like sparsity)' },
  ...SAMPLE_FLAGS,
  ...VARIANT_FLAGS,
  repeats: { kind: 'number', help: 'timed repeats per size; the median is reported (default 7)' },
  qk: { kind: 'string', help: 'time real heads: a file from `sa-studio capture` (with --layer); S, heads and d come from it' },
  layer: { kind: 'number', help: 'the layer of --qk to time (default 0)' },
  forward: { kind: 'boolean', help: 'benchmark the forward pass and matmul instead of attention (--S: prefill lengths, default 1024,4096)' },
  matmul: { kind: 'number', help: 'with --forward: the square matmul size (default 4096); with --sweep: the size the f16 matmul kernels are timed at' },
  shape: { kind: 'string', help: 'with --forward: "1b" times a random Llama-3.2-1B-shaped model at --S (default 4096,16384,32768)' },
  precision: { kind: 'string', help: 'f32 (the exact kernels, default) or f16 (tensor cores: needs shader-f16 and chromium-experimental-subgroup-matrix)' },
  sweep: { kind: 'boolean', help: 'with --matmul N: the f16 tensor-core matmul kernels at N^3 (the default and the sweep\'s others), each checked against the default and float64' },
  only: { kind: 'string', help: 'with --sweep: time only the kernels whose name contains this text (the default is always timed)' },
  'attend-shape': { kind: 'string', help: 'f16 attention: the kernel shape NSGxBKT (NSG subgroups of 16 query rows, BKT keys a tile: 8x32, 4x32 or 4x64; default shape by head dim and adapter)' },
  'row-splits': { kind: 'number', help: `f16 attention: key ranges stage 1's row pass splits each block of sampled rows into (1 .. ${ROW_SPLITS_MAX}; default one per 64 key tiles, 1 = unsplit)` },
  studio: { kind: 'boolean', help: 'time a studio slider move (the studio engine on the default model; --S one length, default 4096)' },
  text: { kind: 'string', help: 'with --studio: the text (default public/texts/prose-nodejs-pull-requests.md, 7517 tokens; for S above that, e.g. public/texts/prose-long-alice-in-wonderland.txt)' },
  out: { kind: 'string', help: 'also write the results as JSON here' },
  help: { kind: 'boolean', help: 'print this help' },
};

/** q, k, v of one layer of a capture file (v drawn at random when the file has none: it only
 * feeds the output pass, whose time does not depend on its values). */
async function readCaptured(file: string, layer: number) {
  const { readQkLayer } = await import('./capture-input');
  const { mulberry32, randn } = await import('../src/util/random');
  const t = await readQkLayer(file, layer);
  return { ...t, v: t.v ?? randn(mulberry32(1), t.kvHeads * t.S * t.d) };
}

const list = (s: string | undefined, dflt: number[]) => (s ? s.split(',').map((x) => Number(x.trim())) : dflt);

export async function benchCommand(argv: string[]): Promise<number> {
  const f = parseFlags('bench', argv, SPEC);
  if (f.help) {
    console.log(usage('bench', 'time attention kernels (or the forward pass with --forward) on this machine\'s WebGPU adapter', SPEC));
    return 0;
  }
  const ctx = await nodeGpu();
  const adapter = describeAdapter(ctx.adapter);
  if (!ctx.hasTimestamps) throw new Error(`adapter ${adapter} has no timestamp-query feature: kernel timings are not available.`);
  console.log(`adapter: ${adapter}`);
  const repeats = (f.repeats as number | undefined) ?? 7;
  const results: unknown[] = [];
  const precision = (f.precision as string | undefined) ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16') throw new UsageError(`bench: --precision must be f32 or f16, got ${precision}.`);
  if (f.sweep && !(Number.isInteger(f.matmul) && (f.matmul as number) >= 8 && (f.matmul as number) % 8 === 0)) throw new UsageError(`bench: --sweep times the f16 matmul kernels: give --matmul N, a positive multiple of 8 (got ${f.matmul}).`);
  const tc = precision === 'f16' || f.sweep ? requireTensorCores(ctx, adapter) : undefined;
  if (tc) console.log(`tensor cores: ${tc === 'real' ? 'subgroup matrices' : 'EMULATED (SA_STUDIO_EMULATE_TENSOR_CORES=1: correctness only, the times mean nothing)'}`);
  if (f.sweep) {
    const { matmulSweep, sweepTable } = await import('../bench/tensorcore-sweep');
    const n = f.matmul as number;
    const rows = await matmulSweep(ctx, tc!, n, repeats, (line) => console.log(`  ${line}`), f.only as string | undefined);
    console.log(`matmul f16 kernels at ${n}^3 (median of ${repeats}):`);
    for (const line of table(...sweepTable(rows), [0, 5])) console.log(line);
    results.push({ kind: 'matmul sweep', n, rows });
  } else if (f.studio) {
    const { benchStudio } = await import('../bench/studio');
    const { DEFAULT_MODEL_DIR, REPO_ROOT } = await import('./model-dir');
    const { join } = await import('node:path');
    const S = list(f.S as string | undefined, [4096])[0];
    const r = await benchStudio(ctx, { modelDir: DEFAULT_MODEL_DIR, textFile: (f.text as string | undefined) ?? join(REPO_ROOT, 'public/texts/prose-nodejs-pull-requests.md'), S, repeats, layer: 3, head: 2, precision });
    console.log(`studio slider move, ${r.model} (${r.layers} layers x ${r.heads} heads), S ${r.S}, precision ${r.precision}: chosen layer + head view ${r.chosenLayerMs.toFixed(1)} ms (of which the layer's run + thumbnails ${r.selectMs.toFixed(1)} ms), all layers ${r.allLayersMs.toFixed(1)} ms, exact zoomed view (440 x 440 tokens) ${r.exactZoomMs.toFixed(1)} ms (wall clock, median of ${r.repeats}; prefill ${r.prefillMs.toFixed(0)} ms)`);
    const gpuMs = r.layerPasses.reduce((a, p) => a + p.ms, 0);
    console.log(`the chosen layer's run, once more: ${r.layerRunWallMs.toFixed(1)} ms wall clock, ${gpuMs.toFixed(1)} ms in GPU passes: ${r.layerPasses.map((p) => `${p.label}${p.count > 1 ? ` x${p.count}` : ''} ${p.ms.toFixed(2)}`).join(', ')}`);
    results.push({ kind: 'studio', ...r });
  } else if (f.forward && f.shape === '1b') {
    const { benchForward } = await import('../bench/forward');
    const { BENCH_LLAMA_1B } = await import('../bench/forward-suite');
    for (const S of list(f.S as string | undefined, [4096, 16384, 32768])) {
      const p = await benchForward(ctx, { ...BENCH_LLAMA_1B, S, repeats, tensorCores: tc });
      console.log(`prefill ${(p.parameters / 1e9).toFixed(2)}B-parameter Llama-3.2-1B-shaped random model, ${precision}, ${S} tokens: ${p.medianMs.toFixed(1)} ms = ${p.tokensPerSecond.toFixed(0)} tokens/s (wall clock, median of ${repeats}, last-token logits)`);
      results.push({ kind: 'prefill 1b', precision, ...p });
    }
  } else if (f.forward) {
    const { benchForwardSuite } = await import('../bench/forward-suite');
    const matmul = f.matmul as number | undefined;
    if (matmul !== undefined && !(Number.isInteger(matmul) && matmul >= 1)) throw new Error(`--matmul must be a positive integer, got ${matmul}`);
    results.push(...(await benchForwardSuite(ctx, repeats, (line) => console.log(line), { lengths: f.S ? list(f.S as string, []) : undefined, matmul })));
  } else {
    const { benchAttention } = await import('../bench/attention');
    const { benchBlocks } = await import('../bench/blocks');
    const heads = (f.heads as number | undefined) ?? 8;
    const kvHeads = (f['kv-heads'] as number | undefined) ?? heads;
    const variant = flagVariant('bench', f);
    const params = variant === 'tokens' ? flagParams('bench', f) : { ...DEFAULT_PARAMS };
    const blocks = variant === 'blocks' ? blocksFlagParams('bench', f) : undefined;
    const pattern = ((f.pattern as string | undefined) ?? 'structured') as 'random' | 'structured';
    if (pattern !== 'random' && pattern !== 'structured') throw new Error(`--pattern must be random or structured, got ${pattern}`);
    console.log(`heads ${heads}, kv heads ${kvHeads}, pattern ${pattern}, tokens ${describeSetting({ variant: 'tokens', ...params })}${blocks ? `; ${describeSetting(blocksSetting(blocks))}` : ''}, precision ${precision}, median of ${repeats}`);
    const f16opts = tc ? { tensorCores: tc, attendKernel: attendKernelFlags(f['attend-shape'] as string | undefined, f['row-splits'] as number | undefined) } : {};
    const bHead = blocks ? ' blocks dense ms | blocks stages ms | blocks sparse ms | blocks speedup | blocks recall | blocks density | tiles visited |' : '';
    const bRule = blocks ? '----------------:|-----------------:|-----------------:|---------------:|--------------:|---------------:|--------------:|' : '';
    console.log(`|     S |   d | dense ms | stage1+2 ms | sparse ms | speedup | stages/dense | recall mean | recall min | density |${bHead}`);
    console.log(`|------:|----:|---------:|------------:|----------:|--------:|-------------:|------------:|-----------:|--------:|${bRule}`);
    const real = f.qk ? await readCaptured(f.qk as string, (f.layer as number | undefined) ?? 0) : undefined;
    if (real) console.log(`real heads: ${f.qk}, layer ${(f.layer as number | undefined) ?? 0}: ${real.heads} heads / ${real.kvHeads} kv, S ${real.S}, d ${real.d}`);
    for (const d of real ? [real.d] : list(f.d as string | undefined, [64, 128])) {
      for (const S of real ? [real.S] : list(f.S as string | undefined, [1024, 4096, 16384, 32768, 65536])) {
        try {
          const r = real
            ? await benchAttention(ctx, { S, heads: real.heads, kvHeads: real.kvHeads, d, params, repeats, pattern, inputs: real, ...f16opts })
            : await benchAttention(ctx, { S, heads, kvHeads, d, params, repeats, pattern, ...f16opts });
          const inputs = real ? { inputs: real } : {};
          const br = blocks ? await benchBlocks(ctx, { S, heads: real?.heads ?? heads, kvHeads: real?.kvHeads ?? kvHeads, d, params: blocks, repeats, pattern, ...inputs, tensorCores: tc }) : undefined;
          // The blocks columns at this run's precision: its own dense pass beside its stages and sparse pass.
          const bt = br?.times.find((t) => t.precision === precision) ?? br?.times[0];
          results.push({ ...r, adapter, pattern, params, precision, ...(br ? { blocks: { ...br, params: blocks } } : {}) });
          const bCells = br && bt ? ` ${bt.denseMs.toFixed(3).padStart(15)} | ${bt.stagesMs.toFixed(3).padStart(16)} | ${bt.sparseMs.toFixed(3).padStart(16)} | ${bt.speedup.toFixed(2).padStart(13)}x | ${br.recallMean.toFixed(4).padStart(13)} | ${bt.density.toFixed(3).padStart(14)} | ${(100 * bt.tileShare).toFixed(1).padStart(12)}% |` : '';
          console.log(`| ${String(S).padStart(5)} | ${String(d).padStart(3)} | ${r.denseMs.toFixed(3).padStart(8)} | ${r.stagesMs.toFixed(3).padStart(11)} | ${r.sparseMs.toFixed(3).padStart(9)} | ${r.speedup.toFixed(2).padStart(6)}x | ${(100 * r.stageShare).toFixed(1).padStart(11)}% | ${r.recallMean.toFixed(4).padStart(11)} | ${r.recallMin.toFixed(4).padStart(10)} | ${r.density.toFixed(3).padStart(7)} |${bCells}`);
          const flops = 2 * S * (S + 1) * d * r.heads; // QK^T and PV over the causal half, 2 flops a multiply-add
          console.log(`|       |     | dense ${(flops / (r.denseMs * 1e-3) / 1e12).toFixed(1)} TFLOP/s; stages ${r.stageParts.map((t) => `${t.label} ${t.ms.toFixed(3)}`).join(', ')} ms${r.kvToF16Ms === undefined ? '' : `; K / V (and stage 1's and the sparse pass's q) read as f16, converted once in ${r.kvToF16Ms.toFixed(3)} ms (in no column)`}; self-check vs float64 (max row error): dense ${r.denseCheck.toExponential(1)}, sparse ${r.sparseCheck.toExponential(1)} |`);
        } catch (e) {
          console.log(`| ${String(S).padStart(5)} | ${String(d).padStart(3)} | failed: ${(e as Error).message}`);
          results.push({ S, d, error: (e as Error).message });
        }
      }
    }
  }
  if (f.out) writeFileSync(f.out as string, JSON.stringify({ adapter, results }, null, 2));
  return 0;
}

/** --attend-shape and --row-splits. */
function attendKernelFlags(shape: string | undefined, splits: number | undefined): AttendKernel | undefined {
  if (splits !== undefined && (!Number.isInteger(splits) || splits < 1 || splits > ROW_SPLITS_MAX)) throw new UsageError(`--row-splits must be an integer from 1 to ${ROW_SPLITS_MAX}; got ${splits}.`);
  const k = parseAttendShape(shape);
  return splits === undefined ? k : { ...k, rowSplits: splits };
}

/** --attend-shape NSGxBKT (the shape's own fit checks run at dispatch). */
export function parseAttendShape(text: string | undefined): AttendKernel | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  const nsg = Number(m?.[1]), bkt = Number(m?.[2]);
  if (!m || (nsg !== 4 && nsg !== 8) || (bkt !== 32 && bkt !== 64)) {
    throw new UsageError(`--attend-shape must be NSGxBKT with NSG 4 or 8 and BKT 32 or 64 (e.g. 8x32); got "${text}".`);
  }
  return { shape: { nsg, bkt } };
}
