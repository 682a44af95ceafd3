// Fixed studio state for the Components/ stories: a synthetic "model" of 3 layers x 4 heads over a
// 48-token text, whose selections, measures and maps are computed by the float64 reference
// (src/sampleattention/spec/reference.ts) from seeded structured q, k, v. Same inputs every time, so the
// components always draw the same picture; no GPU and no model files are involved.
import type { HeadDetail, LayerResult, LoadedModel, PooledMap, PrefillResult } from '../src/engine/types';
import type { ModelConfig } from '../src/model/config';
import { attentionRow, columnScores, headView, inMask, keySetOf, rowRecall, selectAll, selectHead, type SampleParams } from '../src/sampleattention/spec/reference';
import { tokensSetting, type HeadResult } from '../src/sampleattention/spec/setting';
import { useStudio, type StudioState } from '../src/state/store';
import { poolMax } from '../src/engine/pool-cpu';
import { attentionInputs } from './kernel-inputs';

export const S = 48;
const D = 16, LAYERS = 3, HEADS = 4;
const PARAMS: SampleParams = { alpha: 0.9, rowRatio: 0.1, windowRatio: 0.1 };
export const CHOSEN = { layer: 1, head: 2 };

const config: ModelConfig = {
  family: 'llama', modelType: 'llama', vocabSize: 256, hiddenSize: HEADS * D, numLayers: LAYERS, numHeads: HEADS, numKvHeads: HEADS,
  headDim: D, intermediateSize: 4 * HEADS * D, maxPositions: 128, norm: 'rms', normEps: 1e-5, act: 'silu',
  rope: { theta: 10000, type: 'default' }, qkvBias: false, oBias: false, mlpBias: false, qkNorm: false, tiedEmbeddings: true,
};

const WORDS = 'the studio shows every head of a small model and the sparse mask that sample attention keeps for it as the ratios move'.split(' ');

/** Layer l's inputs: structured heads (sinks) with a seed per layer; head 3 random. */
function layerInputs(l: number) {
  const x = attentionInputs(1000 + l, HEADS, HEADS, S, D, 'structured');
  const r = attentionInputs(2000 + l, HEADS, HEADS, S, D, 'random');
  x.q.set(headView(r.q, 3, S, D) as Float32Array, 3 * S * D);
  return x;
}

function probs(x: { q: Float32Array; k: Float32Array }): Float32Array {
  const P = new Float32Array(HEADS * S * S);
  for (let h = 0; h < HEADS; h++) {
    for (let i = 0; i < S; i++) {
      const p = attentionRow(headView(x.q, h, S, D), headView(x.k, h, S, D), S, D, i);
      for (let j = 0; j <= i; j++) P[(h * S + i) * S + j] = p[j];
    }
  }
  return P;
}

const grid = (values: Float32Array): PooledMap => ({ values, rows: S, cols: S, block: 1 });

export interface StudioFixture {
  model: LoadedModel;
  prefill: PrefillResult;
  layers: LayerResult[];
  detail: HeadDetail;
  sweep: StudioState['sweep'];
}

let cached: StudioFixture | null = null;
export function studioFixture(): StudioFixture {
  if (cached) return cached;
  const layers: LayerResult[] = [];
  let detail: HeadDetail | null = null;
  let sweep: StudioState['sweep'] = null;
  for (let l = 0; l < LAYERS; l++) {
    const x = layerInputs(l);
    const heads = selectAll(x.q, x.k, HEADS, HEADS, S, D, PARAMS, { v: x.v });
    const P = probs(x);
    layers.push({ heads: heads.map((sel): HeadResult => ({ variant: 'tokens', ...sel })), thumbs: Array.from({ length: HEADS }, (_, h) => poolMax(P, h, S, 16)) });
    if (l !== CHOSEN.layer) continue;
    // The chosen head at one cell per token: the four planes the GPU pooling kernel would give.
    const h = CHOSEN.head, sel = heads[h];
    const [qh, kh, vh] = [headView(x.q, h, S, D), headView(x.k, h, S, D), headView(x.v, h, S, D)];
    const set = keySetOf(sel.selectedKeys, S);
    const maxP = P.slice(h * S * S, (h + 1) * S * S);
    const kept = new Float32Array(S * S), missed = new Float32Array(S * S);
    for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) {
      if (inMask(i, j, sel.window, set)) kept[i * S + j] = 1;
      else missed[i * S + j] = maxP[i * S + j];
    }
    detail = {
      layer: l, head: h,
      planes: { maxP: grid(maxP), sumP: grid(maxP), keptFraction: grid(kept), missedMass: grid(missed) },
      viewport: { r0: 0, r1: S, c0: 0, c1: S },
      scores: Float32Array.from(columnScores(qh, kh, S, D, sel.sampledRows)),
      recall: Float32Array.from(rowRecall(qh, kh, S, D, sel.window, set)),
    };
    const points = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1].map((alpha) => {
      const s = selectHead(qh, kh, S, D, { ...PARAMS, alpha }, { v: vh });
      return { alpha, recallMean: s.recallMean, density: s.density };
    });
    sweep = { key: 'fixture', variant: 'tokens', points };
  }
  cached = {
    model: { name: 'synthetic-3x4', config, parameters: 0 },
    prefill: { ids: Int32Array.from({ length: S }, (_, i) => i % 256), tokens: Array.from({ length: S }, (_, i) => ` ${WORDS[i % WORDS.length]}`), S, ms: 12 },
    layers,
    detail: detail!,
    sweep,
  };
  return cached;
}

/** Puts the fixture into the studio store (every story starts from the same full state). */
export function loadFixture(patch: Partial<StudioState> = {}): void {
  const f = studioFixture();
  useStudio.setState({
    status: 'ready',
    message: '',
    progress: null,
    adapter: 'fixture (no GPU)',
    model: f.model,
    prefill: f.prefill,
    defaults: tokensSetting(PARAMS),
    overrides: {},
    layers: f.layers,
    chosen: { ...CHOSEN },
    detail: f.detail,
    overlay: 0,
    timing: { layerMs: 41, modelMs: 118, heads: HEADS, othersDone: f.layers.length - 1, others: f.layers.length - 1 },
    latency: { denseMs: 0.412, sparseMs: 0.137, repeats: 21, adapter: 'fixture (no GPU)', variant: 'tokens', key: 'fixture' },
    sweep: f.sweep,
    configMessage: null,
    busy: false,
    ...patch,
  });
}
