// Finds a worker that died without an `error` event (killed for memory, a crashed renderer
// thread, `self.close()`): the client pings it, serveRpc (rpc.ts) answers each ping at once, and
// too many unanswered pings in a row mean it is gone.
//
// Why a long GPU job does not look dead: the engine's work awaits the GPU (mapAsync, queue
// completion) between layers and chunks, and the worker's event loop answers pings in those
// gaps. Only a synchronous stretch (converting a large checkpoint's weights, the non-finite scan)
// blocks it, for seconds; the default limit, 30 unanswered pings a second apart, is far above
// that. Unanswered pings are counted, not wall time, so a main thread that was itself frozen
// (a debugger, a background tab's throttled timers) sends no pings and accuses nobody.
import type { Endpoint } from './rpc';

export interface HeartbeatOptions {
  /** Time between pings. */
  intervalMs: number;
  /** Pings in a row without a pong before the other side is declared dead. */
  missedLimit: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 1000, missedLimit: 30 };

/** Starts pinging `port`; calls `onDead` once, with the pings missed, and stops. Returns stop(). */
export function startHeartbeat(port: Endpoint, opts: HeartbeatOptions, onDead: (missed: number) => void): () => void {
  let sent = 0;
  let answered = 0;
  const onMessage = (ev: MessageEvent) => {
    const m = ev.data as { rpc?: string; n?: number };
    if (m && m.rpc === 'pong' && typeof m.n === 'number') answered = Math.max(answered, m.n);
  };
  port.addEventListener('message', onMessage);
  const timer = setInterval(() => {
    if (sent - answered >= opts.missedLimit) {
      stop();
      onDead(sent - answered);
      return;
    }
    sent++;
    try {
      port.postMessage({ rpc: 'ping', n: sent }, []);
    } catch {
      // A port that cannot take a message counts as a missed ping.
    }
  }, opts.intervalMs);
  function stop() {
    clearInterval(timer);
    port.removeEventListener('message', onMessage);
  }
  return stop;
}
