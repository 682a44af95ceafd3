// `sa-studio bench`: kernel timings from timestamp queries (medians), printed as a table and
// optionally written as JSON. Attention: dense flash vs SampleAttention stages + sparse, with the
// recall and density of the timed mask beside each time. --forward: prefill tokens/s of a random
// Llama-shaped model and the matmul kernel's TFLOP/s.
import { writeFileSync } from 'node:fs';
import { parseFlags, usage, type FlagSpec } from './args';
import { nodeGpu } from '../gpu/node-gpu';
import { describeAdapter } from '../gpu/device';
import { SAMPLE_FLAGS, flagParams } from './sample-flags';

const SPEC: FlagSpec = {
  S: { kind: 'string', help: 'comma-separated sequence lengths (default 1024,4096,16384,32768,65536)' },
  heads: { kind: 'number', help: 'query heads (default 8)' },
  'kv-heads': { kind: 'number', help: 'key/value heads (default = heads)' },
  d: { kind: 'string', help: 'comma-separated head dims (default 64,128)' },
  pattern: { kind: 'string', help: 'random | structured (default structured: sink keys, real-model-like sparsity)' },
  ...SAMPLE_FLAGS,
  repeats: { kind: 'number', help: 'timed repeats per size; the median is reported (default 7)' },
  qk: { kind: 'string', help: 'time real heads: a file from `sa-studio capture` (with --layer); S, heads and d come from it' },
  layer: { kind: 'number', help: 'the layer of --qk to time (default 0)' },
  forward: { kind: 'boolean', help: 'benchmark the forward pass and matmul instead of attention (--S: prefill lengths, default 1024,4096)' },
  matmul: { kind: 'number', help: 'with --forward: the square matmul size (default 4096)' },
  studio: { kind: 'boolean', help: 'time a studio slider move (the studio engine on the default model; --S one length, default 4096)' },
  out: { kind: 'string', help: 'also write the results as JSON here' },
  help: { kind: 'boolean', help: 'print this help' },
};

/** q, k, v of one layer of a capture file (v drawn at random when the file has none: it only
 * feeds the output pass, whose time does not depend on its values). */
async function readCaptured(file: string, layer: number) {
  const { readFileSync } = await import('node:fs');
  const { parseQkSafetensors } = await import('../src/sampleattention/formats/qk-file');
  const { mulberry32, randn } = await import('../src/util/random');
  const t = parseQkSafetensors(readFileSync(file), file, layer);
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
  if (f.studio) {
    const { benchStudio } = await import('../bench/studio');
    const { DEFAULT_MODEL_DIR, REPO_ROOT } = await import('./model-dir');
    const { join } = await import('node:path');
    const S = list(f.S as string | undefined, [4096])[0];
    const r = await benchStudio(ctx, { modelDir: DEFAULT_MODEL_DIR, textFile: join(REPO_ROOT, 'public/texts/prose-nodejs-pull-requests.md'), S, repeats, layer: 3, head: 2 });
    console.log(`studio slider move, ${r.model} (${r.layers} layers x ${r.heads} heads), S ${r.S}: chosen layer + head view ${r.chosenLayerMs.toFixed(1)} ms, all layers ${r.allLayersMs.toFixed(1)} ms, exact zoomed view (440 x 440 tokens) ${r.exactZoomMs.toFixed(1)} ms (wall clock, median of ${r.repeats}; prefill ${r.prefillMs.toFixed(0)} ms)`);
    results.push({ kind: 'studio', ...r });
  } else if (f.forward) {
    const { benchForwardSuite } = await import('../bench/forward-suite');
    const matmul = f.matmul as number | undefined;
    if (matmul !== undefined && !(Number.isInteger(matmul) && matmul >= 1)) throw new Error(`--matmul must be a positive integer, got ${matmul}`);
    results.push(...(await benchForwardSuite(ctx, repeats, (line) => console.log(line), { lengths: f.S ? list(f.S as string, []) : undefined, matmul })));
  } else {
    const { benchAttention } = await import('../bench/attention');
    const heads = (f.heads as number | undefined) ?? 8;
    const kvHeads = (f['kv-heads'] as number | undefined) ?? heads;
    const params = flagParams('bench', f);
    const pattern = ((f.pattern as string | undefined) ?? 'structured') as 'random' | 'structured';
    if (pattern !== 'random' && pattern !== 'structured') throw new Error(`--pattern must be random or structured, got ${pattern}`);
    console.log(`heads ${heads}, kv heads ${kvHeads}, pattern ${pattern}, alpha ${params.alpha}, rowRatio ${params.rowRatio}, windowRatio ${params.windowRatio}, median of ${repeats}`);
    console.log('|     S |   d | dense ms | stage1+2 ms | sparse ms | speedup | stages/dense | recall mean | recall min | density |');
    console.log('|------:|----:|---------:|------------:|----------:|--------:|-------------:|------------:|-----------:|--------:|');
    const real = f.qk ? await readCaptured(f.qk as string, (f.layer as number | undefined) ?? 0) : undefined;
    if (real) console.log(`real heads: ${f.qk}, layer ${(f.layer as number | undefined) ?? 0}: ${real.heads} heads / ${real.kvHeads} kv, S ${real.S}, d ${real.d}`);
    for (const d of real ? [real.d] : list(f.d as string | undefined, [64, 128])) {
      for (const S of real ? [real.S] : list(f.S as string | undefined, [1024, 4096, 16384, 32768, 65536])) {
        try {
          const r = real
            ? await benchAttention(ctx, { S, heads: real.heads, kvHeads: real.kvHeads, d, params, repeats, pattern, inputs: real })
            : await benchAttention(ctx, { S, heads, kvHeads, d, params, repeats, pattern });
          results.push({ ...r, adapter, pattern, params });
          console.log(`| ${String(S).padStart(5)} | ${String(d).padStart(3)} | ${r.denseMs.toFixed(3).padStart(8)} | ${r.stagesMs.toFixed(3).padStart(11)} | ${r.sparseMs.toFixed(3).padStart(9)} | ${r.speedup.toFixed(2).padStart(6)}x | ${(100 * r.stageShare).toFixed(1).padStart(11)}% | ${r.recallMean.toFixed(4).padStart(11)} | ${r.recallMin.toFixed(4).padStart(10)} | ${r.density.toFixed(3).padStart(7)} |`);
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
