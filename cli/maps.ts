// `sa-studio maps`: every head's SampleAttention measures on a text (GPU engine, spec defaults or
// given parameters) as summary.json + summary.md, and pictures of chosen heads: pooled attention
// (block max, inferno, gamma 0.4) beside the mask (kept fraction in green, missed mass in red).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { color as d3color, interpolateInferno } from 'd3';
import { HELP_FLAG, MODEL_FLAGS, parseFlags, printedHelp, UsageError, type FlagSpec } from './args';
import { openSession } from './session';
import { forward } from '../src/model/forward';
import { runCapturedLayers, type HostCapture, type HostLayerSource } from '../src/sampleattention/gpu-run/captured-layers';
import { headShape, type HeadShape } from '../src/sampleattention/studies/tune';
import type { GpuContext } from '../gpu/device';
import { QK_FLAG, modelOrCapture, openCaptureSession } from './capture-input';
import { captureHostLayers } from '../src/sampleattention/studies/capture-sources';
import type { HeadSelection } from '../src/sampleattention/spec/selection';
import { SAMPLE_FLAGS, flagParams } from './sample-flags';
import type { PooledMap } from '../src/sampleattention/gpu-run/pooled-map';
import { encodePng } from '../src/render/png';
import { tokensResults } from '../src/sampleattention/spec/setting';

const SPEC: FlagSpec = {
  model: { ...MODEL_FLAGS.model, required: false, help: 'checkpoint folder or "default" (or --qk)' },
  text: { ...MODEL_FLAGS.text, required: false },
  'max-tokens': MODEL_FLAGS['max-tokens'],
  ...QK_FLAG,
  out: { kind: 'string', required: true, help: 'folder for summary.json, summary.md and the pictures' },
  heads: { kind: 'string', help: 'pictures of these heads, "L:H,L:H" (default: none)' },
  bins: { kind: 'number', help: 'picture side in cells (default 256; block-max pooled when S is larger)' },
  ...SAMPLE_FLAGS,
  ...HELP_FLAG,
};

const LUT = Array.from({ length: 256 }, (_, t) => d3color(interpolateInferno(t / 255))!.rgb());

function picture(att: PooledMap, kept: PooledMap, missed: PooledMap, scale: number): { rgb: Uint8Array; width: number; height: number } {
  const B = att.rows;
  const gap = 8;
  const width = (2 * B + gap) * scale, height = B * scale;
  const rgb = new Uint8Array(width * height * 3).fill(24);
  let max = 0, maxMissed = 0;
  for (const v of att.values) max = Math.max(max, v);
  for (const v of missed.values) maxMissed = Math.max(maxMissed, v);
  const put = (x0: number, y0: number, r: number, g: number, b: number) => {
    for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) {
      const o = ((y0 * scale + dy) * width + x0 * scale + dx) * 3;
      rgb[o] = r;
      rgb[o + 1] = g;
      rgb[o + 2] = b;
    }
  };
  for (let a = 0; a < B; a++)
    for (let b = 0; b < B; b++) {
      const i = a * B + b;
      const c = LUT[Math.min(255, Math.round(255 * Math.pow(max > 0 ? att.values[i] / max : 0, 0.4)))];
      put(b, a, c.r, c.g, c.b);
      if (b > a) continue;
      const k = kept.values[i];
      const m = maxMissed > 0 ? Math.pow(missed.values[i] / maxMissed, 0.5) : 0;
      put(B + gap / scale + b, a, Math.round(40 + 215 * m), Math.round(40 + 170 * k * (1 - m)), 50);
    }
  return { rgb, width, height };
}

export async function mapsCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'maps', 'per-head SampleAttention measures of a text, and pictures of chosen heads', SPEC)) return 0;
  const f = parseFlags('maps', argv, SPEC);
  const params = flagParams('maps', f);
  const wanted = ((f.heads as string | undefined) ?? '').split(',').filter(Boolean).map((s) => {
    const m = /^(\d+):(\d+)$/.exec(s.trim());
    if (!m) throw new UsageError(`maps: --heads wants "L:H,L:H", got "${s}"`);
    return [Number(m[1]), Number(m[2])] as const;
  });
  const from = modelOrCapture('maps', f);
  const src = from === 'qk' ? await captureMaps(f.qk as string, f['max-tokens'] as number | undefined) : await modelMaps(f.model as string, f.text as string, f['max-tokens'] as number | undefined);
  const { numLayers, numHeads } = src;
  const S = src.S;
  const out = f.out as string;
  const t0 = performance.now();
  const layers: Omit<HeadSelection, 'sampledRows' | 'selectedKeys'>[][] = [];
  try {
    for (const [l, h] of wanted) if (l >= numLayers || h >= numHeads) throw new UsageError(`maps: head ${l}:${h} is outside ${numLayers} layers x ${numHeads} heads`);
    mkdirSync(out, { recursive: true });
    await runCapturedLayers(src.ctx, src.shape, await src.layers(), () => params, async (l, r) => {
      layers.push(tokensResults(r.heads, 'maps').map(({ sampledRows, selectedKeys, ...rest }) => ({ ...rest, keysKept: selectedKeys.length, sampled: sampledRows.length })));
      for (const [wl, wh] of wanted.filter(([wl]) => wl === l)) {
        const [planes] = await r.pool({ B: (f.bins as number | undefined) ?? 256, headStart: wh, headCount: 1 });
        const scale = Math.max(1, Math.floor(512 / planes.maxP.rows));
        const pic = picture(planes.maxP, planes.keptFraction, planes.missedMass, scale);
        const file = join(out, `layer${wl}-head${wh}.png`);
        writeFileSync(file, encodePng(pic.rgb, pic.width, pic.height, (b) => new Uint8Array(deflateSync(b))));
        process.stderr.write(`wrote ${file}\n`);
      }
      process.stderr.write(`layer ${l + 1}/${numLayers}\n`);
    });
  } finally {
    src.close();
  }
  const all = layers.flat();
  const mean = (key: 'recallMean' | 'density') => all.reduce((a, h) => a + h[key], 0) / all.length;
  const summary = { model: src.name, adapter: src.adapter, tokens: S, params, ms: performance.now() - t0, recallMean: mean('recallMean'), density: mean('density'), layers };
  writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 1));
  const md = [
    `SampleAttention at alpha ${params.alpha}, rowRatio ${params.rowRatio}, windowRatio ${params.windowRatio} on ${S} tokens of ${f.text ?? f.qk} (${src.name}); cell: mean recall / density.`,
    '',
    `| layer | ${Array.from({ length: numHeads }, (_, h) => `head ${h}`).join(' | ')} |`,
    `|---|${'---|'.repeat(numHeads)}`,
    ...layers.map((hs, l) => `| ${l} | ${hs.map((h) => `${h.recallMean.toFixed(3)} / ${h.density.toFixed(3)}`).join(' | ')} |`),
    '',
    `Model mean: recall ${summary.recallMean.toFixed(4)}, density ${summary.density.toFixed(4)}.`,
  ].join('\n');
  writeFileSync(join(out, 'summary.md'), md + '\n');
  console.log(md);
  return 0;
}

/** Where maps' layers come from: the model's forward capture, or a capture file read per layer. */
interface MapsSource {
  name: string;
  adapter: string;
  ctx: GpuContext;
  S: number;
  numLayers: number;
  numHeads: number;
  shape: HeadShape;
  layers(): Promise<HostCapture | HostLayerSource>;
  close(): void;
}

async function modelMaps(model: string, text: string, maxTokens: number | undefined): Promise<MapsSource> {
  const s = await openSession(model, text, maxTokens);
  const c = s.checkpoint.config;
  return {
    name: s.checkpoint.name, adapter: s.adapter, ctx: s.ctx, S: s.ids.length, numLayers: c.numLayers, numHeads: c.numHeads, shape: headShape(c),
    layers: async () => {
      const fw = await forward(s.model, s.ids, { captureQK: true, captureV: true, logits: 'none' });
      return { q: fw.q!, k: fw.k!, v: fw.v! };
    },
    close: () => s.model.dispose(),
  };
}

async function captureMaps(file: string, maxTokens: number | undefined): Promise<MapsSource> {
  const cs = await openCaptureSession('maps', file, maxTokens);
  const { info } = cs.capture;
  return {
    name: info.model.name ?? basename(file), adapter: cs.adapter, ctx: cs.ctx, S: cs.tokens, numLayers: info.layers.length, numHeads: info.heads,
    shape: { heads: info.heads, kvHeads: info.kvHeads, headDim: info.headDim },
    layers: async () => captureHostLayers(cs.capture, cs.tokens),
    close: cs.close,
  };
}
