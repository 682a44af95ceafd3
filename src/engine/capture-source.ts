// A capture file as the studio's source of q, k, v: where a prefill would have left every layer on
// the GPU (forward-port.ts), a capture uploads a layer when it is first asked for, read from the
// file alone (File.slice through CaptureFile: only that layer's bytes). Layers stay resident up to
// a byte budget; beyond it the least recently used layer is dropped (its SampleAttention run with
// it: the engine re-runs it when that layer is drawn again), so a capture of any number of layers
// opens as long as ONE layer fits the adapter (guardCaptureLayer names the limits otherwise).
import type { GpuContext } from '../../gpu/device';
import { destroyAll, uploadTensor } from '../../gpu/tensor';
import { CaptureFile, blobSource, captureIdentity, type CaptureInfo } from '../sampleattention/formats/capture-file';
import type { ModelIdentity } from '../sampleattention/formats/config-file';
import { captureQKLayers } from '../sampleattention/studies/capture-sources';
import type { QKLayerSource } from '../sampleattention/studies/rivals-study';
import { captureLayerMemory, gpuLimits, guardCaptureLayer, maxCaptureTokens } from '../model/memory-plan';
import type { GpuLayer } from './forward-port';
import type { CaptureOpened, CaptureSummary } from './types';
import { FAMILIES, type Family, type ModelConfig } from '../model/config';

/** GPU bytes the studio keeps for resident capture layers (inputs and their runs) before it drops
 * the least recently used one. WebGPU does not say how much memory there is; 1 GiB is modest for
 * any GPU that runs the studio's 32K default model (1.55 GiB, docs/architecture.md). */
export const CAPTURE_RESIDENT_BYTES = 2 ** 30;

export class CaptureSource {
  private resident = new Map<number, GpuLayer>(); // insertion order = least recently used first
  /** Layers kept on the GPU at once: as many as the budget holds (at most all), at least one. */
  readonly maxResident: number;

  private constructor(private readonly ctx: GpuContext, private readonly file: CaptureFile, budget: number) {
    const i = file.info;
    const m = captureLayerMemory({ S: i.S, heads: i.heads, kvHeads: i.kvHeads, headDim: i.headDim, hasV: i.hasV });
    this.maxResident = Math.max(1, Math.min(i.layers.length, Math.floor(budget / m.total)));
  }

  /** Reads the header and refuses, before any layer is read, a layer past the adapter's limits. */
  static async open(ctx: GpuContext, blob: Blob, name: string, budget = CAPTURE_RESIDENT_BYTES): Promise<CaptureSource> {
    const file = await CaptureFile.open(blobSource(blob), name);
    const i = file.info;
    guardCaptureLayer({ S: i.S, heads: i.heads, kvHeads: i.kvHeads, headDim: i.headDim, hasV: i.hasV }, gpuLimits(ctx.device), name);
    return new CaptureSource(ctx, file, budget);
  }

  get info(): CaptureInfo {
    return this.file.info;
  }

  /** The summary the UI shows (no tensors, no metadata dump). */
  summary(): CaptureSummary {
    const i = this.info;
    const limits = gpuLimits(this.ctx.device);
    let identity: ModelIdentity | undefined, identityProblem: string | undefined;
    try {
      identity = captureIdentity(i);
    } catch (e) {
      identityProblem = (e as Error).message;
    }
    return {
      file: i.file, bytes: i.bytes, S: i.S, layers: [...i.layers], heads: i.heads, kvHeads: i.kvHeads, headDim: i.headDim, hasV: i.hasV,
      hasIds: !!i.ids, hasText: i.text !== undefined, modelName: i.model.name, family: i.model.family, numLayers: i.model.numLayers,
      identity, identityProblem, layerBytes: i.layerBytes, maxResident: this.maxResident,
      bindingBytes: Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize), maxTokens: maxCaptureTokens(i, limits),
    };
  }

  /** Layer i (of the captured ones) on the GPU, uploaded from the file if it is not resident;
   * `onDrop(l)` is told of each layer dropped to make room. */
  async layer(i: number, onDrop: (layer: number) => void): Promise<GpuLayer> {
    const hit = this.resident.get(i);
    if (hit) {
      this.resident.delete(i);
      this.resident.set(i, hit);
      return hit;
    }
    while (this.resident.size >= this.maxResident) {
      const [old, g] = this.resident.entries().next().value as [number, GpuLayer];
      this.resident.delete(old);
      onDrop(old);
      destroyAll(g.q, g.k, g.v);
    }
    const { heads, kvHeads, headDim: d } = this.info;
    const x = await this.file.readLayer(i, { v: true });
    const S = x.T;
    const q = uploadTensor(this.ctx, `capture q.${i}`, [heads, S, d], x.q); // (heads, S, d) f32
    const k = uploadTensor(this.ctx, `capture k.${i}`, [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
    const v = x.v && uploadTensor(this.ctx, `capture v.${i}`, [kvHeads, S, d], x.v); // (kvHeads, S, d) f32
    const g: GpuLayer = { q, k, v };
    this.resident.set(i, g);
    return g;
  }

  /** The rivals' host q/k: read from the file, the first T rows of each head only. */
  qkLayers(): QKLayerSource {
    return captureQKLayers(this.file);
  }

  dispose(): void {
    for (const g of this.resident.values()) destroyAll(g.q, g.k, g.v);
    this.resident.clear();
  }
}

/** The capture as the store sees a model and a prefill. The config carries the capture's shape
 * (layers = the captured ones, heads, kv heads, head dim, S as the positions); what a capture does
 * not have (vocabulary, widths, norms) is zero or off, and nothing reads it: there is no model to
 * build. Token labels are the ids ("#1234"), or positions when the file has no ids: without a
 * tokenizer there is no text of a token. */
export function captureOpened(c: CaptureSummary, ids: Int32Array | undefined, text: string | undefined): CaptureOpened {
  const family: Family = (FAMILIES as readonly string[]).includes(c.family ?? '') ? (c.family as Family) : 'llama';
  const config: ModelConfig = {
    family, modelType: c.family ?? 'unknown (a capture)', vocabSize: 0, hiddenSize: c.heads * c.headDim,
    numLayers: c.layers.length, numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim,
    intermediateSize: 0, maxPositions: c.S, norm: 'rms', normEps: 0, act: 'silu', rope: null,
    qkvBias: false, oBias: false, mlpBias: false, qkNorm: false, tiedEmbeddings: false,
  };
  const tokens = Array.from({ length: c.S }, (_, t) => (ids ? `#${ids[t]}` : `t${t}`));
  return {
    model: { name: c.modelName ?? c.file, config, parameters: 0, capture: c },
    prefill: { ids: ids ? Int32Array.from(ids) : new Int32Array(c.S), tokens, S: c.S, ms: 0 },
    text,
  };
}
