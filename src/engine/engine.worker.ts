// The studio's engine in a dedicated Web Worker: one StudioEngine, opened on the worker's own
// navigator.gpu, served over the RPC of rpc.ts. The main thread only posts calls and draws, so
// safetensors conversion, tokenization, the prefill's host copies, read-backs and CPU references
// never freeze the page. engine-client.ts starts this file and speaks to it.
import { StudioEngine } from './studio-engine';
import { methodsOf, serveRpc, transferables, type Endpoint } from './rpc';
import { checkpointFiles, type CheckpointSource } from './source';
import type { LoadedModel } from './types';

let engine: StudioEngine | null = null;

function need(): StudioEngine {
  if (!engine) throw new Error('WebGPU is not ready.');
  return engine;
}

/** What the worker adds to the engine's own methods (engine-client.ts calls these by name). */
export const host = {
  /** Opens WebGPU here; throws GpuUnavailableError when this worker has no WebGPU or no adapter. */
  async open(): Promise<{ adapterName: string }> {
    engine ??= await StudioEngine.open();
    return { adapterName: engine.adapterName };
  },
  /** loadModel with a postable description of the files instead of CheckpointFiles. */
  async loadModel(source: CheckpointSource, onBytes: (done: number, total: number) => void, signal?: AbortSignal): Promise<LoadedModel> {
    return need().loadModel(await checkpointFiles(source), onBytes, signal);
  },
  /** Test hook (the studio's ?faults): the worker ends itself without an error event, as a tab
   * killed for memory would; nothing answers after this, so only the heartbeat can notice. */
  exitWorker(): void {
    self.close();
  },
  /** Resolves when the GPU device is lost, with the reason. */
  async deviceLost(): Promise<string> {
    const info = await need().ctx.lost;
    return `${info.reason}${info.message ? `: ${info.message}` : ''}`;
  },
};

export interface EngineState {
  adapterName: string;
  layers: number;
}

// Results of these methods are made fresh for each call (slices, read-backs, pooled maps): their
// buffers move to the main thread instead of being copied. Anything else is copied, so a method
// returning an array the engine keeps stays correct.
const FRESH_RESULTS = new Set(['tokenize', 'headDetail', 'headPlanes', 'selectLayer']);

const engineMethod = (method: string) => methodsOf(need())(method);

serveRpc(self as unknown as Endpoint, (method) => (Object.hasOwn(host, method) ? (host as Record<string, (...a: never[]) => unknown>)[method] as (...a: unknown[]) => unknown : engine ? engineMethod(method) : () => need()), {
  transfer: (method, value) => (FRESH_RESULTS.has(method) ? transferables(value) : []),
  state: (): EngineState => ({ adapterName: engine?.adapterName ?? '', layers: engine?.layers ?? 0 }),
});
