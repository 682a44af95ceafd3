// What a slider move costs in the studio, measured on the studio's own engine (src/engine) outside
// the browser: the chosen layer's SampleAttention for every head (stages, sparse, dense for recall,
// measures, read-backs, overview thumbnails) plus the chosen head's detail (512 x 512 pooled
// planes, column scores, row recall), and the same for every layer. Wall clock, median of
// repeats; React's redraw is not included.
import type { GpuContext } from '../gpu/device';
import { median } from '../gpu/timing';
import { StudioEngine } from '../src/engine/studio-engine';
import { nodeFolder } from '../src/model/loader/node-folder';
import { readFileSync } from 'node:fs';
import { DEFAULT_PARAMS, type SampleParams } from '../src/sampleattention/spec/params';

export async function benchStudio(ctx: GpuContext, o: { modelDir: string; textFile: string; S: number; repeats: number; layer: number; head: number; precision?: 'f32' | 'f16' }) {
  const engine = await StudioEngine.open(ctx);
  if (o.precision === 'f16') await engine.setPrecision('f16'); // the header switch: tensor cores for the prefill and SampleAttention
  const m = await engine.loadModel(nodeFolder(o.modelDir), () => {});
  const { ids } = engine.tokenize(readFileSync(o.textFile, 'utf8'), o.S);
  const prefill = await engine.prefill(ids, () => {});
  const heads = m.config.numHeads;
  const params = (alpha: number): SampleParams[] => Array.from({ length: heads }, () => ({ ...DEFAULT_PARAMS, alpha }));
  for (let l = 0; l < m.config.numLayers; l++) await engine.selectLayer(l, params(0.95)); // warm-up + first draw
  await engine.headDetail(o.layer, o.head, 512);
  const layerMs: number[] = [];
  const selectMs: number[] = [];
  const modelMs: number[] = [];
  for (let r = 0; r < o.repeats; r++) {
    const alpha = r % 2 ? 0.95 : 0.9; // a slider move: the selection really changes
    const t0 = performance.now();
    await engine.selectLayer(o.layer, params(alpha));
    const tSelect = performance.now();
    await engine.headDetail(o.layer, o.head, 512);
    const t1 = performance.now();
    selectMs.push(tSelect - t0); // the layer's run and its overview thumbnails; the rest is the head view
    for (let l = 0; l < m.config.numLayers; l++) if (l !== o.layer) await engine.selectLayer(l, params(alpha));
    layerMs.push(t1 - t0);
    modelMs.push(performance.now() - t0);
  }
  // A zoom that settles: the head view asks for the visible 440 x 440 tokens, exact (1 token per cell).
  const zoomMs: number[] = [];
  const S = ids.length;
  for (let r = 0; r < o.repeats; r++) {
    const r0 = Math.max(0, S - 440 - 37 * r), c0 = Math.max(0, Math.floor(S / 2) - 29 * r);
    const t0 = performance.now();
    await engine.headPlanes(o.layer, o.head, 440, { r0, r1: Math.min(S, r0 + 440), c0, c1: Math.min(S, c0 + 440) });
    zoomMs.push(performance.now() - t0);
  }
  // Where the chosen layer's run goes: its GPU passes (summed by kernel) beside its wall clock.
  const prof = await engine.profileLayer(o.layer, params(0.9));
  const byKernel = new Map<string, { ms: number; count: number }>();
  for (const p of prof.passes) {
    const e = byKernel.get(p.label) ?? { ms: 0, count: 0 };
    e.ms += p.ms;
    e.count++;
    byKernel.set(p.label, e);
  }
  const layerPasses = [...byKernel].map(([label, e]) => ({ label, ...e })).sort((a, b) => b.ms - a.ms);
  return { layerRunWallMs: prof.wallMs, layerPasses, S, model: m.name, layers: m.config.numLayers, heads, prefillMs: prefill.ms, chosenLayerMs: median(layerMs), selectMs: median(selectMs), precision: o.precision ?? 'f32', allLayersMs: median(modelMs), exactZoomMs: median(zoomMs), repeats: o.repeats };
}
