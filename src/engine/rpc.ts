// A small, generic, typed RPC over postMessage (a Worker, a worker's global scope, a MessagePort).
// The client calls `remote.method(...args)` and gets a promise. Top-level arguments that are
// functions travel as callback ids (the server calls them back: progress), AbortSignals as cancel
// ids (an abort on the client aborts the server's own AbortController for that call); everything
// else is structured-cloned. Results and errors come back with the call id; errors keep `name` and
// `message`, so the client can re-create known error classes by name (`revive`). The server may
// transfer typed arrays of a result instead of copying them (`transfer`), and may attach a small
// snapshot of its state to every answer (`state`), so the client can mirror getters without a
// round trip. Nothing here knows about the engine.

/** The part of Worker / DedicatedWorkerGlobalScope / MessagePort both sides use. */
export interface Endpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  start?(): void;
}

/** Every method of T, returning a promise (properties that are not functions are left out). */
export type Remote<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** The error's own data fields (file, key, tensor, need, limit, paths...), so a revived error
   * names what it is about as the thrown one did. Only plain values travel (see ownFields). */
  fields?: Record<string, unknown>;
}

const MARK = '__rpc__';
type FnArg = { [MARK]: 'fn'; id: number };
type SignalArg = { [MARK]: 'signal'; id: number; aborted: boolean };

type ToServer =
  | { rpc: 'call'; id: number; method: string; args: unknown[] }
  | { rpc: 'abort'; signal: number }
  | { rpc: 'ping'; n: number };
type ToClient =
  | { rpc: 'pong'; n: number }
  | { rpc: 'result'; id: number; value: unknown; state?: unknown }
  | { rpc: 'error'; id: number; error: WireError; state?: unknown }
  | { rpc: 'callback'; fn: number; args: unknown[] };

const isMarked = (x: unknown, kind: string): boolean => typeof x === 'object' && x !== null && (x as Record<string, unknown>)[MARK] === kind;

export function toWireError(e: unknown): WireError {
  if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)) {
    const err = e as Error;
    const fields = ownFields(err);
    return { name: String(err.name ?? 'Error'), message: String(err.message), stack: err.stack, ...(fields ? { fields } : {}) };
  }
  return { name: 'Error', message: String(e) };
}

const plain = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** An error's own enumerable fields that are plain values or arrays of them (a cause, a typed
 * array or a function is left out: it may not clone, and no receiver needs it). */
function ownFields(err: object): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    if (k === 'name' || k === 'message' || k === 'stack') continue;
    if (plain(v) || (Array.isArray(v) && v.length <= 1000 && v.every(plain))) out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** A plain Error carrying the remote name and message. */
export function defaultRevive(w: WireError): Error {
  const e = new Error(w.message);
  e.name = w.name;
  if (w.fields) Object.assign(e, w.fields);
  return e;
}

/** The ArrayBuffers behind every typed array in `value` (arrays and plain objects are walked),
 * each once: a transfer list. Shared memory is never listed. */
export function transferables(value: unknown, depth = 6): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const walk = (v: unknown, d: number) => {
    if (typeof v !== 'object' || v === null || d < 0) return;
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) found.add(v.buffer);
      return;
    }
    if (v instanceof ArrayBuffer) {
      if (v.byteLength > 0) found.add(v);
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (Array.isArray(v)) for (const x of v) walk(x, d - 1);
    else if (proto === Object.prototype || proto === null) for (const x of Object.values(v)) walk(x, d - 1);
  };
  walk(value, depth);
  return [...found];
}

export interface ClientOptions {
  /** Re-creates an error from its name and message (default: an Error with that name). */
  revive?: (e: WireError) => Error;
  /** Called with the server's state snapshot before the answer that carried it resolves. */
  onState?: (state: unknown) => void;
}

export interface RpcClient<T> {
  remote: Remote<T>;
  /** Calls a method by name (what `remote` does). */
  call(method: string, args: unknown[]): Promise<unknown>;
  /** Number of calls waiting for an answer. */
  readonly pending: number;
  /** The other side is gone: every pending call and every later call rejects with `error`. */
  fail(error: Error): void;
  /** Stops listening; pending calls reject. */
  close(): void;
}

export function rpcClient<T>(port: Endpoint, opts: ClientOptions = {}): RpcClient<T> {
  const revive = opts.revive ?? defaultRevive;
  let nextId = 1;
  let failed: Error | null = null;
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; cleanup(): void }>();
  const fns = new Map<number, (...args: unknown[]) => unknown>();

  const onMessage = (ev: MessageEvent) => {
    const m = ev.data as ToClient;
    if (typeof m !== 'object' || m === null || !('rpc' in m) || m.rpc === 'pong') return;
    if (m.rpc === 'callback') {
      const fn = fns.get(m.fn);
      if (fn) {
        try {
          fn(...m.args);
        } catch (e) {
          console.warn('rpc callback failed', e);
        }
      }
      return;
    }
    const c = calls.get(m.id);
    if (!c) return;
    calls.delete(m.id);
    c.cleanup();
    if (m.state !== undefined) opts.onState?.(m.state);
    if (m.rpc === 'result') c.resolve(m.value);
    else c.reject(revive(m.error));
  };
  port.addEventListener('message', onMessage);
  port.start?.();

  function call(method: string, args: unknown[]): Promise<unknown> {
    if (failed) return Promise.reject(failed);
    const id = nextId++;
    const cleanups: (() => void)[] = [];
    const wire = args.map((a): unknown => {
      if (typeof a === 'function') {
        const fid = nextId++;
        fns.set(fid, a as (...args: unknown[]) => unknown);
        cleanups.push(() => fns.delete(fid));
        return { [MARK]: 'fn', id: fid } satisfies FnArg;
      }
      if (typeof AbortSignal !== 'undefined' && a instanceof AbortSignal) {
        const sid = nextId++;
        const onAbort = () => port.postMessage({ rpc: 'abort', signal: sid } satisfies ToServer, []);
        a.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => a.removeEventListener('abort', onAbort));
        return { [MARK]: 'signal', id: sid, aborted: a.aborted } satisfies SignalArg;
      }
      return a;
    });
    return new Promise<unknown>((resolve, reject) => {
      const cleanup = () => cleanups.forEach((f) => f());
      calls.set(id, { resolve, reject, cleanup });
      try {
        port.postMessage({ rpc: 'call', id, method, args: wire } satisfies ToServer, []);
      } catch (e) {
        // An argument that cannot be cloned: this call fails, the channel is fine.
        calls.delete(id);
        cleanup();
        reject(e as Error);
      }
    });
  }

  function rejectAll(error: Error) {
    for (const c of calls.values()) {
      c.cleanup();
      c.reject(error);
    }
    calls.clear();
    fns.clear();
  }

  const remote = new Proxy({} as Remote<T>, {
    get(_, key) {
      // `then` must stay undefined, or awaiting the proxy would call a remote method "then".
      if (typeof key !== 'string' || key === 'then') return undefined;
      return (...args: unknown[]) => call(key, args);
    },
  });

  return {
    remote,
    call,
    get pending() {
      return calls.size;
    },
    fail(error) {
      if (!failed) failed = error;
      rejectAll(failed);
    },
    close() {
      port.removeEventListener('message', onMessage);
      if (!failed) failed = new Error('The RPC channel is closed.');
      rejectAll(failed);
    },
  };
}

export interface ServerOptions {
  /** What to transfer of a method's result (default: nothing, everything is copied). Only list
   * buffers the server does not keep: a transferred buffer is detached on this side. */
  transfer?: (method: string, value: unknown) => Transferable[];
  /** A snapshot sent with every answer (it must be cloneable). */
  state?: () => unknown;
}

/** A resolver serving an object's methods (own or inherited, not Object.prototype's). */
export function methodsOf(target: object): (method: string) => ((...args: unknown[]) => unknown) | undefined {
  return (method) => {
    if (method in Object.prototype) return undefined;
    const f = (target as Record<string, unknown>)[method];
    return typeof f === 'function' ? (f as (...args: unknown[]) => unknown).bind(target) : undefined;
  };
}

/** Serves calls arriving on `port`; `resolve` maps a method name to the function to run. */
export function serveRpc(port: Endpoint, resolve: (method: string) => ((...args: unknown[]) => unknown) | undefined, opts: ServerOptions = {}): () => void {
  const controllers = new Map<number, AbortController>();
  const post = (m: ToClient, transfer: Transferable[] = []) => port.postMessage(m, transfer);
  const snapshot = () => {
    try {
      return opts.state?.();
    } catch {
      return undefined;
    }
  };

  const onMessage = async (ev: MessageEvent) => {
    const m = ev.data as ToServer;
    if (typeof m !== 'object' || m === null || !('rpc' in m)) return;
    if (m.rpc === 'abort') {
      controllers.get(m.signal)?.abort();
      return;
    }
    // Answered at once, between whatever the server's calls are awaiting (heartbeat.ts).
    if (m.rpc === 'ping') {
      post({ rpc: 'pong', n: m.n });
      return;
    }
    if (m.rpc !== 'call') return;
    const signals: number[] = [];
    try {
      const fn = resolve(m.method);
      if (!fn) throw new TypeError(`The engine has no method ${m.method}.`);
      const args = m.args.map((a) => {
        if (isMarked(a, 'fn')) {
          const fid = (a as FnArg).id;
          return (...cbArgs: unknown[]) => post({ rpc: 'callback', fn: fid, args: cbArgs });
        }
        if (isMarked(a, 'signal')) {
          const s = a as SignalArg;
          const ctl = new AbortController();
          if (s.aborted) ctl.abort();
          controllers.set(s.id, ctl);
          signals.push(s.id);
          return ctl.signal;
        }
        return a;
      });
      const value = await fn(...args);
      let transfer: Transferable[] = [];
      try {
        transfer = opts.transfer?.(m.method, value) ?? [];
      } catch {
        transfer = [];
      }
      post({ rpc: 'result', id: m.id, value, state: snapshot() }, transfer);
    } catch (e) {
      try {
        post({ rpc: 'error', id: m.id, error: toWireError(e), state: snapshot() });
      } catch (e2) {
        post({ rpc: 'error', id: m.id, error: toWireError(e2) });
      }
    } finally {
      for (const s of signals) controllers.delete(s);
    }
  };
  // A result that cannot be cloned throws in post(): the catch above answers with that error.
  port.addEventListener('message', onMessage as (ev: MessageEvent) => void);
  port.start?.();
  return () => port.removeEventListener('message', onMessage as (ev: MessageEvent) => void);
}
