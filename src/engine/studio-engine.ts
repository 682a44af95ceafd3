// The studio's engine: the only UI-side code that talks to the GPU. It owns the device, the
// loaded checkpoint, the built model, every layer's captured q/k/v (on the GPU from the prefill
// on; read to the host only when a CPU study asks) and every layer's current SampleAttention run (kept for drawing until the next run replaces
// it). Every method returns plain data (typed arrays, numbers) for the store.
import { acquireDevice, describeAdapter, type GpuContext } from '../../gpu/device';
import { GpuTimer, median } from '../../gpu/timing';
import { createTensor, destroyAll, readTensor, type Tensor } from '../../gpu/tensor';
import { loadCheckpoint, type Checkpoint } from '../model/loader/checkpoint';
import type { CheckpointFiles } from '../model/loader/files';
import { denseAttention, runSampleAttention, sparseAttention, type SampleRun } from '../sampleattention/gpu-run/layer-run';
import { settingParams, type BlocksSetting, type HeadResult, type SettingLike } from '../sampleattention/spec/setting';
import { blockStrips } from './block-strips';
import { timeBlocksKernels } from '../sampleattention/gpu-run/blocks-timing';
import { destroyDenseOutputs } from '../../gpu/attention/flash';
import { destroySparseOutputs } from '../../gpu/sample/sparse';
import { buildModel, type Model } from '../model/forward';
import type { Precision } from '../model/model';
import { missingForTensorCores, requireTensorCores, tensorCoreMode, type TensorCoreMode } from '../../gpu/tensorcore/support';
import { capturePrefill, readCapture, type GpuLayer } from './forward-port';
import type { QKCapture, QKLayerSource, RivalsMInference } from '../sampleattention/studies/rivals-study';
import type { LayerSource } from '../sampleattention/studies/tune';
import { InputError } from '../../gpu/errors';
import { CaptureSource, captureOpened } from './capture-source';
import { throwIfCancelled } from './cancel';
export { CancelledError } from './cancel';
import type { CaptureOpened, HeadDetail, HeadPlanes, LatencyResult, LayerResult, LoadedModel, MapViewport, PooledMap, PrecisionInfo } from './types';
import { nearLosslessCheck, rivalsCapture, tuneCapture, type CheckProgress, type CheckReport, type PasskeyPlan, type RivalsReport, type TuneReport } from './checks';
import type { TuneGrid, TuneRule } from '../sampleattention/studies/tune';
import { kvHeadOf } from '../sampleattention/spec/reference';
import { gpuLimits, guardGpuMemory, positionsError } from '../model/memory-plan';

/** Where armFault destroys the device: after the prefill's first layer, at the start of a layer's
 * SampleAttention (a slider move), after the tune's first grid point. */
export type FaultPoint = 'prefill' | 'select' | 'tune';

/** One head's q, k, v as single-head tensors. */
interface HeadQKV {
  q: Tensor; // (1, S, hd) f32
  k: Tensor; // (1, S, hd) f32
  v: Tensor; // (1, S, hd) f32
}

export const THUMB_SIDE = 24;

const NO_TIMESTAMPS = 'this adapter has no timestamp-query feature, so kernel times cannot be measured';

export class StudioEngine {
  private checkpoint: Checkpoint | null = null;
  private model: Model | null = null;
  /** Host copies of q and k, read back on first need (rivals). */
  private capture: QKCapture | null = null;
  private gpuLayers: GpuLayer[] = [];
  private runs: (SampleRun | null)[] = [];
  /** Each layer's overview thumbnails, the dense map's max P per cell: they depend on the layer's
   * q and k only, never on the settings, so a slider move reuses them (at 32K pooling the 8 heads'
   * whole maps cost most of a move). releaseLayers (a new prefill, capture or precision) drops them. */
  private thumbs: (PooledMap[] | null)[] = [];
  /** The current text's token ids; S is their count. */
  private ids: Int32Array | null = null;
  private get S(): number {
    return this.ids?.length ?? 0;
  }
  private headCache: { key: string; t: HeadQKV } | null = null;
  /** The open capture file, when the studio looks at one instead of a prefill: it hands each
   * layer's q, k, v over where the prefill's would be (capture-source.ts). */
  private captured: CaptureSource | null = null;
  /** Each layer's last parameters: a capture layer dropped from the GPU is run again when drawn. */
  private lastParams: (readonly SettingLike[])[] = [];

  private constructor(readonly ctx: GpuContext) {
    this.tensorCoreMode = tensorCoreMode(ctx);
  }

  /** GPU work runs one operation at a time: WebGPU error scopes are a per-device stack, so two
   * interleaved operations would catch each other's errors, and one could destroy buffers the
   * other is still using (the one-head cache). Callers still await as usual. */
  private queue: Promise<unknown> = Promise.resolve();
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The browser's device, or a given one (Node benchmarks run the same engine on Dawn). */
  static async open(ctx?: GpuContext): Promise<StudioEngine> {
    return new StudioEngine(ctx ?? (await acquireDevice(typeof navigator !== 'undefined' ? navigator.gpu : undefined)));
  }

  get adapterName(): string {
    return describeAdapter(this.ctx.adapter);
  }

  /** f32: the exact kernels; f16: tensor cores for the prefill and SampleAttention. */
  private precision: Precision = 'f32';
  private readonly tensorCoreMode: TensorCoreMode | null;
  private get tensorCores(): TensorCoreMode | undefined {
    return this.precision === 'f16' ? this.tensorCoreMode ?? undefined : undefined;
  }

  /** Which precisions this device runs, and what f16 lacks where it cannot. */
  precisionInfo(): PrecisionInfo {
    return { precision: this.precision, f16: this.tensorCoreMode !== null, missing: this.tensorCoreMode ? [] : missingForTensorCores(this.ctx) };
  }

  /** Switches the precision; the next prefill rebuilds the model (f16 weights or f32). */
  setPrecision(p: Precision): Promise<PrecisionInfo> {
    return this.exclusive(async () => {
      if (p === 'f16' && !this.tensorCoreMode) requireTensorCores(this.ctx, this.adapterName);
      if (p !== this.precision) {
        this.precision = p;
        this.releaseLayers();
        this.model?.dispose();
        this.model = null;
      }
      return this.precisionInfo();
    });
  }

  /** Reads, validates and builds a checkpoint; only then does it replace the open one, so a broken
   * folder (bad files, wrong shapes, NaN weights, past the adapter's limits) leaves the last good
   * model loaded, its text and runs usable. Both models are on the GPU for that moment. */
  async loadModel(files: CheckpointFiles, onBytes: (done: number, total: number) => void, signal?: AbortSignal): Promise<LoadedModel> {
    const cp = await loadCheckpoint(files, (done, total) => {
      throwIfCancelled(signal);
      onBytes(done, total);
    });
    throwIfCancelled(signal);
    await this.exclusive(async () => {
      const model = buildModel(this.ctx, cp.config, cp.weights, { precision: this.precision, tensorCores: this.tensorCores });
      if (signal?.aborted) {
        model.dispose();
        throwIfCancelled(signal);
      }
      this.releaseModel();
      this.checkpoint = cp;
      this.model = model;
    });
    let parameters = 0;
    for (const name of cp.weights.names()) parameters += cp.weights.get(name).shape.reduce((a, b) => a * b, 1);
    return { name: cp.name, config: cp.config, parameters };
  }

  /** The text's first `maxTokens` tokens; a LimitError, before any work, when those are more than
   * the model's positions (the CLI's --max-tokens rule, cli/session.ts). */
  tokenize(text: string, maxTokens: number, label = 'The text'): { ids: Int32Array; tokens: string[] } {
    const cp = this.need();
    const max = cp.config.maxPositions;
    const ids = Int32Array.from(cp.tokenizer.encode(text)).slice(0, maxTokens);
    if (ids.length > max) {
      throw positionsError(label, ids.length, max, `set max tokens to ${max} or less, or use a shorter text.`, label, ` (at max tokens ${maxTokens})`);
    }
    if (ids.length === 0) throw new Error('The text gives no tokens: paste or pick a longer text.');
    const tokens = Array.from(ids, (id) => cp.tokenizer.decode([id]));
    return { ids, tokens };
  }

  /** Runs the prefill and keeps every layer's q, k (and v) on the GPU. */
  prefill(ids: Int32Array, onLayer: (done: number, total: number) => void, signal?: AbortSignal): Promise<{ ms: number }> {
    return this.exclusive(() => this.prefillNow(ids, onLayer, signal));
  }

  private async prefillNow(ids: Int32Array, onLayer: (done: number, total: number) => void, signal?: AbortSignal): Promise<{ ms: number }> {
    const cp = this.need();
    this.releaseLayers();
    const { numLayers } = cp.config;
    const t0 = performance.now();
    // The memory guard before any upload: weights, the prefill, every layer's kept q, k, v and
    // every layer's SampleAttention run (kept for drawing), against the device's limits.
    guardGpuMemory(cp.config, { S: ids.length, precision: this.precision, logits: 'none', captureLayers: true, sampleAttention: numLayers }, gpuLimits(this.ctx.device));
    if (!this.model) this.model = buildModel(this.ctx, cp.config, cp.weights, { precision: this.precision, tensorCores: this.tensorCores });
    throwIfCancelled(signal);
    const layers = await capturePrefill(this.ctx, this.model, ids, numLayers, (done, total) => {
      if (done >= 1 && done < total) this.faultPoint('prefill');
      onLayer(done, total);
    }, signal);
    if (signal?.aborted) {
      for (const g of layers) destroyAll(g.q, g.k, g.v, g.lse);
      throwIfCancelled(signal);
    }
    this.ids = ids;
    this.gpuLayers = layers;
    this.runs = layers.map(() => null);
    return { ms: performance.now() - t0 };
  }

  get layers(): number {
    return this.captured ? this.captured.info.layers.length : this.gpuLayers.length;
  }

  /** Opens a capture file (post-RoPE q, k, v per layer: `sa-studio capture`, tools/capture) in
   * place of a model's prefill: its layers are read from the file when first needed, so select,
   * the head view, latency, the sweep, tune and rivals run on them by the prefill's code; the
   * checks that need the model refuse. A file that is wrong, or one of whose layers is past the
   * adapter's limits, is refused before anything open is released. `residentBytes`: how much of
   * the GPU the capture's layers may keep (CAPTURE_RESIDENT_BYTES; tests make it one layer). */
  openCapture(file: Blob, name: string, residentBytes?: number): Promise<CaptureOpened> {
    return this.exclusive(async () => {
      const src = await CaptureSource.open(this.ctx, file, name, residentBytes);
      this.releaseLayers();
      this.captured = src;
      const i = src.info;
      this.ids = i.ids ?? new Int32Array(i.S);
      this.runs = i.layers.map(() => null);
      return captureOpened(src.summary(), i.ids, i.text);
    });
  }

  /** The attention shape of what is open: the capture's or the model's. */
  private get shape(): { numLayers: number; numHeads: number; numKvHeads: number; headDim: number } {
    if (!this.captured) return this.need().config;
    const i = this.captured.info;
    return { numLayers: i.layers.length, numHeads: i.heads, numKvHeads: i.kvHeads, headDim: i.headDim };
  }

  /** One layer's q, k, v on the GPU: the prefill's, or the capture's (uploaded when first asked
   * for; a layer dropped to make room takes its run with it). */
  private async inputs(layer: number): Promise<GpuLayer> {
    if (this.captured) {
      return this.captured.layer(layer, (dropped) => {
        this.runs[dropped]?.dispose();
        this.runs[dropped] = null;
      });
    }
    const g = this.gpuLayers[layer];
    if (!g) throw new Error(`no captured q/k for layer ${layer}: run the prefill first.`);
    return g;
  }

  /** SampleAttention for every head of one layer with a setting per head (either variant: a
   * HeadSetting, or SampleParams for tokens); keeps the run for drawing. */
  selectLayer(layer: number, params: readonly SettingLike[]): Promise<LayerResult> {
    return this.exclusive(() => this.selectLayerNow(layer, params));
  }

  private async selectLayerNow(layer: number, params: readonly SettingLike[]): Promise<LayerResult> {
    const c = this.shape;
    this.faultPoint('select');
    const run = await this.runLayer(layer, params);
    let thumbs = this.thumbs[layer];
    if (!thumbs) {
      const pooled = await run.pool({ B: THUMB_SIDE, headStart: 0, headCount: c.numHeads });
      thumbs = this.thumbs[layer] = pooled.map((p) => p.maxP);
    }
    // Copies: the worker transfers a result's arrays (detaching them here).
    return { heads: run.heads, thumbs: thumbs.map((p) => ({ ...p, values: p.values.slice() })) };
  }

  /** SampleAttention on one layer's inputs; the run replaces the layer's last one. */
  private async runLayer(layer: number, params: readonly SettingLike[], timer?: GpuTimer): Promise<SampleRun> {
    const c = this.shape;
    const g = await this.inputs(layer);
    const run = await runSampleAttention(this.ctx, {
      q: g.q, k: g.k, v: g.v,
      heads: c.numHeads, kvHeads: c.numKvHeads, S: this.S, d: c.headDim,
      params, tensorCores: this.tensorCores, timer,
    });
    this.runs[layer]?.dispose();
    this.runs[layer] = run;
    this.lastParams[layer] = params;
    return run;
  }

  /** Where a layer's run spends its time (benchmarks): each GPU pass's kernel time from timestamp
   * queries, and the run's wall clock (passes, read-backs and the host's share of the measures). */
  profileLayer(layer: number, params: readonly SettingLike[]): Promise<{ wallMs: number; passes: { label: string; ms: number }[] }> {
    return this.exclusive(async () => {
      if (!this.ctx.hasTimestamps) throw new Error('profileLayer needs the timestamp-query feature; this adapter has none.');
      const timer = new GpuTimer(this.ctx, 512);
      try {
        const t0 = performance.now();
        await this.runLayer(layer, params, timer);
        const wallMs = performance.now() - t0;
        return { wallMs, passes: await timer.read() };
      } finally {
        timer.destroy();
      }
    });
  }

  /** What the head view draws for one head of a layer's current run: its whole map pooled into a
   * grid of about `side` x `side` cells, its column scores and its recall. */
  headDetail(layer: number, head: number, side: number): Promise<HeadDetail> {
    return this.exclusive(async () => {
      const S = this.S;
      const { run, planes } = await this.planesNow(layer, head, side, { r0: 0, r1: S, c0: 0, c1: S });
      const scores = (await readTensor(this.ctx, run.tensors.scores)).slice(head * S, (head + 1) * S);
      const recall = (await readTensor(this.ctx, run.tensors.recall)).slice(head * S, (head + 1) * S);
      const setting = this.lastParams[layer]?.[head];
      if (run.heads[head]?.variant !== 'blocks' || !setting) return { layer, head, ...planes, scores, recall };
      const t = await this.oneHead(layer, head);
      const strips = await blockStrips(this.ctx, t.q, t.k, S, this.shape.headDim, setting as BlocksSetting);
      return { layer, head, ...planes, scores, recall, strips };
    });
  }

  /** One head's maps over `viewport` in about `side` x `side` cells (a small viewport gives one
   * cell per token, exact): what a zoomed head view asks for; scores and recall are not re-read. */
  headPlanes(layer: number, head: number, side: number, viewport: MapViewport): Promise<HeadPlanes> {
    return this.exclusive(async () => (await this.planesNow(layer, head, side, viewport)).planes);
  }

  private async planesNow(layer: number, head: number, side: number, viewport: MapViewport): Promise<{ run: SampleRun; planes: HeadPlanes }> {
    const again = this.captured && this.lastParams[layer];
    const run = this.runs[layer] ?? (again ? await this.runLayer(layer, again) : null);
    if (!run) throw new Error(`layer ${layer} has no SampleAttention run yet.`);
    const v = { ...viewport };
    const [planes] = await run.pool({ B: side, headStart: head, headCount: 1, viewport: v });
    return { run, planes: { planes, viewport: v } };
  }

  /** One head's q, k (and v) as single-head tensors, for latency and sweeps; cached per head. */
  private async oneHead(layer: number, head: number): Promise<HeadQKV> {
    const key = `${layer}:${head}`;
    if (this.headCache?.key === key) return this.headCache.t;
    if (this.headCache) destroyAll(this.headCache.t.q, this.headCache.t.k, this.headCache.t.v);
    this.headCache = null;
    const { numHeads, numKvHeads, headDim: d } = this.shape;
    const S = this.S;
    const g = kvHeadOf(head, numHeads, numKvHeads);
    const src = await this.inputs(layer);
    // Head h's (S, d) block of a (heads, S, d) tensor, copied on the GPU.
    const enc = this.ctx.device.createCommandEncoder({ label: 'one head' });
    const slice = (x: Tensor, h: number, label: string) => {
      const t = createTensor(this.ctx, label, [1, S, d]); // (1, S, d) f32
      enc.copyBufferToBuffer(x.buffer, h * S * d * 4, t.buffer, 0, S * d * 4);
      return t;
    };
    // Without v (a capture may lack it) k stands in: latency and the sweep's recall and density do not depend on v.
    const t: HeadQKV = { q: slice(src.q, head, 'one head q'), k: slice(src.k, g, 'one head k'), v: slice(src.v ?? src.k, g, 'one head v') };
    this.ctx.device.queue.submit([enc.finish()]);
    this.headCache = { key, t };
    return t;
  }

  /** Host copies of every layer's q and k, read back once per text on first need. */
  private async hostCapture(): Promise<QKCapture | QKLayerSource> {
    if (this.captured) return this.captured.qkLayers();
    if (!this.gpuLayers.length) throw new Error('no captured q/k: run the prefill first.');
    this.capture ??= await readCapture(this.ctx, this.gpuLayers, this.need().config.numKvHeads);
    return this.capture;
  }

  /** One head's measures under `params` (the alpha sweep; either variant); nothing is kept. */
  measureHead(layer: number, head: number, params: SettingLike): Promise<HeadResult> {
    return this.exclusive(() => this.measureHeadNow(layer, head, params));
  }

  private async measureHeadNow(layer: number, head: number, params: SettingLike): Promise<HeadResult> {
    const t = await this.oneHead(layer, head);
    const run = await runSampleAttention(this.ctx, { q: t.q, k: t.k, v: t.v, heads: 1, kvHeads: 1, S: this.S, d: this.shape.headDim, params, tensorCores: this.tensorCores });
    run.dispose();
    return run.heads[0];
  }

  /** Median kernel time of dense vs sparse attention for one head, from timestamp queries. */
  latency(layer: number, head: number, keys: readonly number[], window: number, repeats = 9): Promise<LatencyResult> {
    return this.exclusive(() => this.latencyNow(layer, head, keys, window, repeats));
  }

  /** The same for a blocks head at `setting`: its whole work (stages 1+2, then the block-sparse
   * pass over what they keep) beside dense, timed by timeBlocksKernels as `sa-studio bench
   * --variant blocks` times it; f32, and f16 where the device has tensor cores. */
  blocksLatency(layer: number, head: number, setting: BlocksSetting, repeats = 9): Promise<LatencyResult> {
    return this.exclusive(async () => {
      if (!this.ctx.hasTimestamps) return { denseMs: NaN, sparseMs: NaN, repeats: 0, adapter: this.adapterName, note: NO_TIMESTAMPS };
      const { q, k, v } = await this.oneHead(layer, head);
      const o = { shape: { heads: 1, kvHeads: 1, S: this.S, d: this.shape.headDim }, q, k, v, params: settingParams(setting), repeats };
      const f32 = await timeBlocksKernels(this.ctx, o);
      const f16 = this.tensorCoreMode ? await timeBlocksKernels(this.ctx, { ...o, tensorCores: this.tensorCoreMode }) : undefined;
      const of = (t: typeof f32) => ({ denseMs: t.denseMs, stagesMs: t.stagesMs, sparseMs: t.sparseMs });
      return { ...of(f32), f16: f16 && of(f16), repeats, adapter: this.adapterName, variant: 'blocks' };
    });
  }

  private async latencyNow(layer: number, head: number, keys: readonly number[], window: number, repeats = 9): Promise<LatencyResult> {
    if (!this.ctx.hasTimestamps) {
      return { denseMs: NaN, sparseMs: NaN, repeats: 0, adapter: this.adapterName, note: NO_TIMESTAMPS };
    }
    const d = this.shape.headDim;
    const S = this.S;
    const one = await this.oneHead(layer, head);
    const { q, k, v } = one;
    const timer = new GpuTimer(this.ctx, 4);
    const shape = { heads: 1, kvHeads: 1, S, d, q, k, timer };
    // Median kernel times of one precision; the first round warms pipelines and caches.
    const time = async (tensorCores?: TensorCoreMode) => {
      const dense: number[] = [];
      const sparse: number[] = [];
      for (let r = 0; r < repeats + 1; r++) {
        destroyDenseOutputs(await denseAttention(this.ctx, { ...shape, v, tensorCores }));
        const dt = await timer.read();
        destroySparseOutputs(await sparseAttention(this.ctx, { ...shape, v, keys: [keys], windows: [window], tensorCores }));
        const st = await timer.read();
        if (r > 0) {
          dense.push(dt.reduce((a, t) => a + t.ms, 0));
          sparse.push(st.reduce((a, t) => a + t.ms, 0));
        }
      }
      return { denseMs: median(dense), sparseMs: median(sparse) };
    };
    try {
      const f32 = await time();
      // Both paths where both exist, so the studio shows what tensor cores change.
      const f16 = this.tensorCoreMode ? await time(this.tensorCoreMode) : undefined;
      return { ...f32, f16, repeats, adapter: this.adapterName, variant: 'tokens' };
    } finally {
      timer.destroy();
    }
  }

  /** Auto-tune every head on the current text (its captured q/k) at the engine's precision; nothing is kept. */
  tune(rule: TuneRule, grid: TuneGrid, onProgress: CheckProgress, signal?: AbortSignal): Promise<TuneReport> {
    return this.exclusive(() => {
      if (!this.layers) throw new Error('no captured q/k: run the prefill first.');
      const S = this.S;
      // The prefill's layers with its dense lse, or the capture's, uploaded one after another.
      const caps: LayerSource = { count: this.layers, S, layer: async (l) => {
        const g = await this.inputs(l);
        return [{ S, q: g.q, k: g.k, lse: g.lse }];
      } };
      return tuneCapture(this.ctx, this.shape, caps, rule, grid, (done, total, unit, what) => {
        if (done >= 1) this.faultPoint('tune');
        onProgress(done, total, unit, what);
      }, signal, this.tensorCores);
    });
  }

  /** The near-lossless check on the current text: dense vs SampleAttention with a setting per head. */
  check(params: readonly (readonly SettingLike[])[], passkey: PasskeyPlan | null, onProgress: CheckProgress, signal?: AbortSignal): Promise<CheckReport> {
    return this.exclusive(async () => {
      if (this.captured) throw new InputError(`The near-lossless check runs the model on its text; the capture ${this.captured.info.file} holds only q, k, v. Open the model (and the text) to run it.`, { file: this.captured.info.file });
      if (!this.model || !this.ids) throw new Error('run the prefill first.');
      return nearLosslessCheck(this.ctx, this.model, this.need(), this.ids, params, passkey, this.adapterName, onProgress, signal);
    });
  }

  /** Rival patterns on the CPU (float64) for one head or every head, each at its own setting
   * (either variant); only the read-back of q/k (once per text) is queued behind GPU work. */
  async rivals(params: readonly (readonly SettingLike[])[], which: { layer: number; head: number } | null, maxTokens: number, onProgress: CheckProgress, signal?: AbortSignal, minference?: RivalsMInference): Promise<RivalsReport> {
    const cap = await this.exclusive(() => this.hostCapture());
    return rivalsCapture(this.shape, cap, params, which, maxTokens, onProgress, signal, minference);
  }

  /** Test hook (the studio's ?faults): the GPU device is destroyed at the next `point`, as a
   * driver reset would lose it, so the browser tests see a real device loss mid-work. */
  private armed: FaultPoint | null = null;
  armFault(point: FaultPoint): void {
    this.armed = point;
  }

  private faultPoint(point: FaultPoint): void {
    if (this.armed !== point) return;
    this.armed = null;
    this.ctx.device.destroy();
  }

  private need(): Checkpoint {
    if (!this.checkpoint) throw new Error('no model is loaded.');
    return this.checkpoint;
  }

  private releaseLayers(): void {
    if (this.headCache) destroyAll(this.headCache.t.q, this.headCache.t.k, this.headCache.t.v);
    this.headCache = null;
    for (const r of this.runs) r?.dispose();
    for (const g of this.gpuLayers) destroyAll(g.q, g.k, g.v, g.lse);
    this.runs = [];
    this.thumbs = [];
    this.gpuLayers = [];
    this.capture = null;
    this.ids = null;
    this.captured?.dispose();
    this.captured = null;
    this.lastParams = [];
  }

  private releaseModel(): void {
    this.releaseLayers();
    this.model?.dispose();
    this.model = null;
    this.checkpoint = null;
  }

  dispose(): void {
    this.releaseModel();
  }
}
