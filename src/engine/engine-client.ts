// The UI's handle on the engine. openEngine() runs StudioEngine in a dedicated Web Worker
// (engine.worker.ts) and returns a proxy with the engine's methods, all async, over rpc.ts; when
// a worker cannot have WebGPU (no Worker, no navigator.gpu in the worker, no adapter there) it
// runs the engine on the main thread behind the same interface. `where` says which.
// The proxy is generic: any method StudioEngine gains is callable without being listed here.
import { GpuUnavailableError } from '../../gpu/device';

/** Thrown by openEngine() where there is no WebGPU at all; the UI tells it apart by class. */
export { GpuUnavailableError };
import { CancelledError } from './cancel';
import type { StudioEngine } from './studio-engine';
import type { EngineState, host } from './engine.worker';
import { defaultRevive, rpcClient, type Endpoint, type Remote, type WireError } from './rpc';
import { checkpointFiles, type CheckpointSource } from './source';
import { reviveInputError } from './revive-input-error';
import { DEFAULT_HEARTBEAT, startHeartbeat, type HeartbeatOptions } from './heartbeat';
import type { LoadedModel } from './types';

export type EngineWhere = 'worker' | 'main thread';

/** StudioEngine's methods, all returning promises; loadModel takes a postable CheckpointSource. */
export type Engine = Omit<Remote<StudioEngine>, 'loadModel'> & {
  loadModel(source: CheckpointSource, onBytes: (done: number, total: number) => void, signal?: AbortSignal): Promise<LoadedModel>;
  /** The adapter's description (StudioEngine.adapterName). */
  readonly adapterName: string;
  /** Layers with captured q/k (StudioEngine.layers), as of the last answer. */
  readonly layers: number;
  readonly where: EngineWhere;
  /** `listener` is called once if the engine becomes unusable: its worker failed or went silent,
   * or the GPU device was lost. Calls pending then, and any later call, reject with
   * EngineLostError carrying the same message. */
  onFailure(listener: (fault: EngineFault) => void): void;
  /** Stops the engine (terminates its worker). */
  close(): void;
};

export class EngineLostError extends Error {
  override name = 'EngineLostError';
}

/** Why an engine stopped: its device was lost, its worker threw or went silent, or it was closed. */
export type EngineFaultKind = 'device-lost' | 'worker-error' | 'worker-silent' | 'closed';

export interface EngineFault {
  kind: EngineFaultKind;
  /** What happened and what to do, for the user. */
  message: string;
}

/** What to do after any fault: the studio's "Restart engine" (src/state/restart.ts) rebuilds it all. */
export const RESTART_HINT = 'Restart the engine to go on: the model, text, parameters and per-head overrides are kept.';

export function deviceLostMessage(reason: string): string {
  return `The GPU device was lost (${reason.replace(/\.+$/, '')}). A GPU driver reset, another program or tab taking the GPU's memory, or the machine sleeping can cause this. ${RESTART_HINT}`;
}

/** Errors keep their class across the worker boundary where the UI tells them apart. */
export function reviveEngineError(w: WireError): Error {
  if (w.name === 'CancelledError') return new CancelledError();
  if (w.name === 'GpuUnavailableError') return new GpuUnavailableError(w.message);
  if (w.name === 'EngineLostError') return new EngineLostError(w.message);
  return reviveInputError(w) ?? defaultRevive(w);
}

// Starting the worker means loading its module graph and acquiring a device: seconds, not minutes.
const OPEN_TIMEOUT_MS = 60_000;

export interface OpenOptions {
  where?: EngineWhere;
  /** How the worker's heartbeat pings (heartbeat.ts); tests shorten it. */
  heartbeat?: HeartbeatOptions;
}

/** The engine in a worker when WebGPU works there, else on the main thread. `where: 'main thread'`
 * skips the worker. Throws GpuUnavailableError when there is no WebGPU at all. */
export async function openEngine(opts: OpenOptions = {}): Promise<Engine> {
  if (opts.where !== 'main thread' && typeof Worker !== 'undefined') {
    try {
      return await workerEngine(opts.heartbeat ?? DEFAULT_HEARTBEAT);
    } catch (e) {
      console.info(`The engine cannot run in a worker here (${(e as Error).message}); it runs on the main thread.`);
    }
  }
  return mainThreadEngine();
}

interface Base {
  where: EngineWhere;
  call(method: string, args: unknown[]): Promise<unknown>;
  state(): EngineState;
  close(): void;
}

function failures() {
  const listeners: ((fault: EngineFault) => void)[] = [];
  let failure: EngineFault | null = null;
  return {
    get failure() {
      return failure;
    },
    on(l: (fault: EngineFault) => void) {
      if (failure) l(failure);
      else listeners.push(l);
    },
    /** Records the first failure and tells the listeners; false if one was already recorded. */
    fail(kind: EngineFaultKind, message: string): boolean {
      if (failure) return false;
      failure = { kind, message };
      for (const l of listeners.splice(0)) l(failure);
      return true;
    },
  };
}

function engineProxy(base: Base, onFailure: (l: (fault: EngineFault) => void) => void): Engine {
  return new Proxy({} as Engine, {
    get(_, key) {
      // `then` stays undefined so that awaiting the engine does not call a method "then".
      if (typeof key !== 'string' || key === 'then') return undefined;
      switch (key) {
        case 'adapterName':
          return base.state().adapterName;
        case 'layers':
          return base.state().layers;
        case 'where':
          return base.where;
        case 'onFailure':
          return onFailure;
        case 'close':
          return base.close;
      }
      return (...args: unknown[]) => base.call(key, args);
    },
  });
}

async function workerEngine(beat: HeartbeatOptions): Promise<Engine> {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'studio-engine' });
  let state: EngineState = { adapterName: '', layers: 0 };
  const client = rpcClient<typeof host>(worker as unknown as Endpoint, { revive: reviveEngineError, onState: (s) => (state = s as EngineState) });
  const f = failures();
  let stopBeat = () => undefined as void;
  const fail = (kind: EngineFaultKind, message: string) => {
    if (!f.fail(kind, message)) return;
    stopBeat();
    client.fail(new EngineLostError(message));
    worker.terminate();
  };
  worker.addEventListener('error', (ev) => {
    ev.preventDefault();
    fail('worker-error', `The engine's worker stopped${ev.message ? ` (${ev.message})` : ''}. ${RESTART_HINT}`);
  });
  worker.addEventListener('messageerror', () => fail('worker-error', `A message from the engine's worker could not be read. ${RESTART_HINT}`));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const opened = client.remote.open();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the worker did not open WebGPU within ${OPEN_TIMEOUT_MS / 1000} s`)), OPEN_TIMEOUT_MS);
    });
    state = { adapterName: (await Promise.race([opened, late])).adapterName, layers: 0 };
  } catch (e) {
    client.close();
    worker.terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  client.remote.deviceLost().then((why) => fail('device-lost', deviceLostMessage(why)), () => undefined);
  stopBeat = startHeartbeat(worker as unknown as Endpoint, beat, (missed) => {
    const s = Math.round((missed * beat.intervalMs) / 1000);
    fail('worker-silent', `The engine's worker stopped answering (no reply for ${s} s): it may have run out of memory or crashed. ${RESTART_HINT}`);
  });
  return engineProxy({
    where: 'worker',
    call: (method, args) => client.call(method, args),
    state: () => state,
    close: () => {
      f.fail('closed', 'The engine was closed.');
      stopBeat();
      client.close();
      worker.terminate();
    },
  }, f.on);
}

async function mainThreadEngine(): Promise<Engine> {
  // Loaded only when needed, so the page's own bundle does not carry the GPU code twice.
  const { StudioEngine } = await import('./studio-engine');
  const e = await StudioEngine.open();
  const f = failures();
  void e.ctx.lost.then((info) => f.fail('device-lost', deviceLostMessage(`${info.reason}${info.message ? `: ${info.message}` : ''}`)));
  return engineProxy({
    where: 'main thread',
    async call(method, args) {
      if (f.failure) throw new EngineLostError(f.failure.message);
      if (method === 'loadModel') {
        const [source, onBytes, signal] = args as [CheckpointSource, (done: number, total: number) => void, AbortSignal | undefined];
        return e.loadModel(await checkpointFiles(source), onBytes, signal);
      }
      const fn = method in Object.prototype ? undefined : (e as unknown as Record<string, unknown>)[method];
      if (typeof fn !== 'function') throw new TypeError(`The engine has no method ${method}.`);
      return (fn as (...a: unknown[]) => unknown).apply(e, args);
    },
    state: () => ({ adapterName: e.adapterName, layers: e.layers }),
    close: () => {
      f.fail('closed', 'The engine was closed.');
      e.dispose();
    },
  }, f.on);
}
