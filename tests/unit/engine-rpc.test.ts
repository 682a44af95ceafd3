// The engine's RPC (src/engine/rpc.ts) over a real MessageChannel: random payloads survive the
// round trip (copied or transferred), callbacks and aborts travel both ways, errors keep their
// class by name, the server's state snapshot arrives before the answer, and a failed channel
// rejects what is pending instead of hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { rpcClient, serveRpc, methodsOf, transferables, type Endpoint, type Remote } from '../../src/engine/rpc';
import { reviveEngineError, EngineLostError } from '../../src/engine/engine-client';
import { CancelledError, throwIfCancelled } from '../../src/engine/cancel';
import { GpuUnavailableError } from '../../gpu/device';
import { CheckpointError, InputError, LimitError, NonFiniteActivationError, NonFiniteWeightError, oneLine } from '../../gpu/errors';
import { ConfigError } from '../../src/sampleattention/formats/config-file';
import { errorText } from '../../src/engine/revive-input-error';
import { startHeartbeat } from '../../src/engine/heartbeat';

class Service {
  kept = new Float32Array(16).fill(1);
  calls = 0;
  echo<T>(x: T): T {
    this.calls++;
    return x;
  }
  async fresh(n: number, seed: number): Promise<{ a: Float32Array; b: Int32Array[]; name: string }> {
    this.calls++;
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
    const b = [Int32Array.from({ length: n }, (_, i) => i * seed), Int32Array.of(seed)];
    return { a, b, name: `fresh ${seed}` };
  }
  keptArray(): Float32Array {
    return this.kept;
  }
  async count(n: number, onStep: (done: number, total: number) => void): Promise<number> {
    for (let i = 1; i <= n; i++) {
      onStep(i, n);
      await new Promise((r) => setTimeout(r, 0));
    }
    return n;
  }
  /** Runs until its signal aborts; says it started through `onStart`. */
  async wait(onStart: () => void, signal?: AbortSignal): Promise<string> {
    onStart();
    for (let i = 0; i < 2000; i++) {
      throwIfCancelled(signal);
      await new Promise((r) => setTimeout(r, 1));
    }
    return 'not cancelled';
  }
  fail(name: string, message: string): never {
    if (name === 'GpuUnavailableError') throw new GpuUnavailableError(message);
    if (name === 'CancelledError') throw new CancelledError();
    const e = new Error(message);
    e.name = name;
    throw e;
  }
  /** One of the named input errors, as the loader, the forward pass and the config reader throw them. */
  failInput(kind: string): never {
    if (kind === 'checkpoint') throw new CheckpointError('model.safetensors: tensor "model.norm.weight" ends at byte 900 past the file\'s 512 bytes:\n  the file is truncated; download it again.', { file: 'model.safetensors', tensor: 'model.norm.weight' }, { cause: new Error('inner') });
    if (kind === 'weight') throw new NonFiniteWeightError('tensor "lm_head.weight" holds NaN at element 17', { file: 'model.safetensors', tensor: 'lm_head.weight' }, 17, NaN);
    if (kind === 'activation') throw new NonFiniteActivationError('layer 3 attention output is NaN', 3, 'attention');
    if (kind === 'limit') throw new LimitError('The text has 300 tokens, more than the model\'s 256 positions', 300, 256, { file: 'notes.txt' });
    throw new ConfigError(['layers[1].heads[2].alpha: 1.7 is outside (0, 1]', 'defaults.rowRatio: missing'], 'bad.json');
  }
  uncloneable(): unknown {
    return { f: () => 1 };
  }
  never(): Promise<never> {
    return new Promise(() => undefined);
  }
}

function pair(transfer = false) {
  const { port1, port2 } = new MessageChannel();
  const svc = new Service();
  const stop = serveRpc(port2 as unknown as Endpoint, methodsOf(svc), {
    transfer: transfer ? (method, value) => (method === 'fresh' || method === 'keptArray' ? transferables(value) : []) : undefined,
    state: () => ({ calls: svc.calls }),
  });
  const states: unknown[] = [];
  const client = rpcClient<Service>(port1 as unknown as Endpoint, { revive: reviveEngineError, onState: (s) => states.push(s) });
  return {
    svc,
    client,
    remote: client.remote as Remote<Service>,
    states,
    close() {
      client.close();
      stop();
      port1.close();
      port2.close();
    },
  };
}

test('random payloads come back equal, copied', async () => {
  const p = pair();
  try {
    for (let round = 0; round < 20; round++) {
      const n = randomInt(0, 5000);
      const f32 = new Float32Array(randomBytes(n * 4).buffer).map((x) => (Number.isFinite(x) ? x : 0));
      const payload = {
        f32,
        i32: new Int32Array(randomBytes(randomInt(0, 300) * 4).buffer),
        u8: new Uint8Array(randomBytes(randomInt(0, 100))),
        list: Array.from({ length: randomInt(0, 20) }, () => ({ s: randomBytes(8).toString('hex'), x: Math.random(), flag: Math.random() < 0.5 })),
        nested: { deeper: { n: randomInt(-1e6, 1e6), nil: null, arr: [1, 'two', [3]] } },
      };
      const back = await p.remote.echo(payload);
      assert.deepEqual(back, payload);
      assert.notEqual(back.f32, payload.f32);
      assert.equal(payload.f32.length, n, 'arguments are copied, never transferred away from the caller');
    }
  } finally {
    p.close();
  }
});

test('transferred results arrive intact and leave the server detached', async () => {
  const p = pair(true);
  try {
    const seed = randomInt(1, 1000);
    const n = randomInt(1, 4096);
    const r = await p.remote.fresh(n, seed);
    assert.equal(r.a.length, n);
    assert.equal(r.name, `fresh ${seed}`);
    for (let i = 0; i < n; i += 97) assert.equal(r.a[i], Math.fround(Math.sin(i * 0.37 + seed)));
    assert.equal(r.b[0][n - 1], (n - 1) * seed);
    assert.deepEqual([...r.b[1]], [seed]);
    // A buffer the server keeps is detached when transferred: why transfer is opt-in per method.
    await p.remote.keptArray();
    assert.equal(p.svc.kept.length, 0);
    assert.deepEqual(transferables({ a: new Float32Array(4), b: [new Uint8Array(2)], c: 'x' }).length, 2);
    const shared = new Float32Array(8);
    assert.equal(transferables({ x: shared.subarray(0, 2), y: shared.subarray(2) }).length, 1, 'one buffer is listed once');
  } finally {
    p.close();
  }
});

test('callbacks arrive in order before the result', async () => {
  const p = pair();
  try {
    const n = randomInt(3, 40);
    const seen: [number, number][] = [];
    const r = await p.remote.count(n, (done, total) => seen.push([done, total]));
    assert.equal(r, n);
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => [i + 1, n]));
  } finally {
    p.close();
  }
});

test('an abort on the client cancels the server side, and the error is a CancelledError', async () => {
  const p = pair();
  try {
    const ctl = new AbortController();
    const t0 = performance.now();
    const run = p.remote.wait(() => ctl.abort(), ctl.signal);
    await assert.rejects(run, (e) => e instanceof CancelledError && e.message === 'Cancelled.');
    assert.ok(performance.now() - t0 < 1000, 'the abort reached the server long before the work would end');
    // A signal aborted before the call is aborted on the server from the start.
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(p.remote.wait(() => undefined, pre.signal), CancelledError);
    // The channel is fine after a cancelled call.
    assert.equal(await p.remote.count(2, () => undefined), 2);
  } finally {
    p.close();
  }
});

test('errors keep their class by name, and their message', async () => {
  const p = pair();
  try {
    const msg = `no adapter ${randomBytes(4).toString('hex')}`;
    await assert.rejects(p.remote.fail('GpuUnavailableError', msg), (e) => e instanceof GpuUnavailableError && e.name === 'GpuUnavailableError' && e.message === msg);
    await assert.rejects(p.remote.fail('CancelledError', ''), CancelledError);
    await assert.rejects(p.remote.fail('RangeError', 'out'), (e) => e instanceof Error && e.name === 'RangeError' && e.message === 'out');
    await assert.rejects(p.client.call('noSuchMethod', []), /has no method noSuchMethod/);
    await assert.rejects(p.client.call('toString', []), /has no method toString/);
    await assert.rejects(p.remote.uncloneable(), (e) => e instanceof Error && e.name === 'DataCloneError');
    // The channel still works after failed calls.
    assert.equal(await p.remote.echo(7), 7);
  } finally {
    p.close();
  }
});

test('the state snapshot arrives before the answer resolves', async () => {
  const p = pair();
  try {
    await p.remote.echo(1);
    assert.deepEqual(p.states.at(-1), { calls: 1 });
    await p.remote.echo(2);
    assert.deepEqual(p.states.at(-1), { calls: 2 });
  } finally {
    p.close();
  }
});

test('a failed channel rejects pending and later calls; the proxy is not a thenable', async () => {
  const p = pair();
  try {
    assert.equal((p.remote as unknown as { then?: unknown }).then, undefined);
    const pending = p.remote.never();
    assert.equal(p.client.pending, 1);
    p.client.fail(new EngineLostError('the worker stopped: reload'));
    await assert.rejects(pending, (e) => e instanceof EngineLostError && /reload/.test(e.message));
    await assert.rejects(p.remote.echo(1), EngineLostError);
    assert.equal(p.client.pending, 0);
  } finally {
    p.close();
  }
});

test('named input errors keep their class, message and fields across the worker boundary', async () => {
  const p = pair();
  try {
    const got = async (kind: string) => {
      let err: unknown;
      await p.remote.failInput(kind).catch((e) => (err = e));
      let thrown: unknown;
      try {
        p.svc.failInput(kind);
      } catch (e) {
        thrown = e;
      }
      assert.ok(err instanceof InputError, `${kind}: revived as an InputError`);
      assert.equal((err as Error).message, (thrown as Error).message);
      assert.equal((err as Error).name, (thrown as Error).name);
      assert.equal(Object.getPrototypeOf(err), Object.getPrototypeOf(thrown), `${kind}: the same class`);
      // The studio's text is the CLI's line (cli/main.ts prints oneLine of the message).
      assert.equal(errorText(err), oneLine((thrown as Error).message));
      return err as InputError & Record<string, unknown>;
    };
    const cp = await got('checkpoint');
    assert.ok(cp instanceof CheckpointError);
    assert.deepEqual([cp.file, cp.tensor, cp.key], ['model.safetensors', 'model.norm.weight', undefined]);
    assert.doesNotMatch(errorText(cp), /\n/);
    const w = await got('weight');
    assert.ok(w instanceof NonFiniteWeightError && w instanceof CheckpointError);
    assert.deepEqual([w.tensor, w.index, Number.isNaN(w.value)], ['lm_head.weight', 17, true]);
    const a = await got('activation');
    assert.ok(a instanceof NonFiniteActivationError);
    assert.deepEqual([a.layer, a.pass], [3, 'attention']);
    const l = await got('limit');
    assert.ok(l instanceof LimitError);
    assert.deepEqual([l.need, l.limit, l.file], [300, 256, 'notes.txt']);
    const c = await got('config');
    assert.ok(c instanceof ConfigError);
    assert.deepEqual(c.paths, ['layers[1].heads[2].alpha', 'defaults.rowRatio']);
    assert.equal(c.key, 'layers[1].heads[2].alpha');
    assert.deepEqual(c.problems, ['layers[1].heads[2].alpha: 1.7 is outside (0, 1]', 'defaults.rowRatio: missing']);
    // A plain error with a made-up name is not mistaken for one of ours.
    await assert.rejects(p.remote.fail('CheckpointErrorish', 'x'), (e) => !(e instanceof InputError));
  } finally {
    p.close();
  }
});

test('the heartbeat: a server busy awaiting still answers; a silent one is declared dead', async () => {
  const { port1, port2 } = new MessageChannel();
  const svc = new Service();
  const stop = serveRpc(port2 as unknown as Endpoint, methodsOf(svc));
  const client = rpcClient<Service>(port1 as unknown as Endpoint, { revive: reviveEngineError });
  let dead = -1;
  const beat = { intervalMs: 10, missedLimit: 8 };
  const stopBeat = startHeartbeat(port1 as unknown as Endpoint, beat, (missed) => (dead = missed));
  try {
    // 40 steps of awaited work (about 400 ms, 40 pings): the pings are answered between the awaits.
    const steps = client.remote.count(40, () => undefined);
    for (let i = 0; i < 40; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await steps, 40);
    assert.equal(dead, -1, 'a working server was declared dead');
    // The server goes silent (as a worker that called self.close()): dead after missedLimit pings.
    stop();
    const t0 = performance.now();
    while (dead < 0 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    assert.equal(dead, beat.missedLimit);
    const ms = performance.now() - t0;
    assert.ok(ms >= beat.intervalMs * (beat.missedLimit - 1) && ms < 3000, `declared dead after ${ms.toFixed(0)} ms`);
  } finally {
    stopBeat();
    client.close();
    port1.close();
    port2.close();
  }
});
