// The shared harness of the Kernels/ stories: one WebGPU device per page, run a kernel on the
// story's inputs, compare with the float64 reference, time it with timestamp queries (median of
// repeats) beside the reference's CPU time, and draw inputs and outputs. Each story file only says
// how to build its kernel's dispatches, its reference and its checks (a KernelRun).
//
// The status line (data-testid="kernel-status") is what tests/stories/stories.test.ts reads: its
// data-state is 'running', then 'pass' with the text "matches reference: <error> <= <tolerance>",
// 'fail' (an error above its tolerance) or 'error' (an exception, e.g. a bad shape).
import { useEffect, useState, type ReactNode } from 'react';
import { acquireDevice, checked, describeAdapter, type GpuContext } from '../gpu/device';
import { run, type Dispatch } from '../gpu/kernel';
import { GpuTimer, median } from '../gpu/timing';
import { HeatCanvas } from '../src/ui/components/HeatCanvas';
import type { Pattern } from './kernel-inputs';

/** The controls every kernel story has. */
export interface KernelArgs {
  S: number;
  d: number;
  heads: number;
  seed: number;
  pattern: Pattern;
}

/** Small enough for SwiftShader (a CPU) to run every kernel and its reference in a second or so;
 * awkward sizes (not multiples of any tile) on purpose. */
export const DEFAULT_ARGS: KernelArgs = { S: 77, d: 40, heads: 2, seed: 20240615, pattern: 'random' };

export const kernelArgTypes = {
  S: { control: { type: 'number', min: 1, max: 256, step: 1 }, description: 'sequence length (rows)' },
  d: { control: { type: 'number', min: 2, max: 128, step: 1 }, description: 'head dimension (or inner size)' },
  heads: { control: { type: 'number', min: 1, max: 8, step: 1 }, description: 'query heads' },
  seed: { control: { type: 'number' }, description: 'seed of the random inputs' },
  pattern: { control: 'inline-radio', options: ['random', 'structured'], description: 'random inputs, or inputs with visible structure (sinks, waves)' },
} as const;

/** One compared quantity: passes when error <= tolerance (NaN and Infinity never pass). */
export interface Check {
  what: string;
  error: number;
  tolerance: number;
  /** Why this tolerance (from the GPU tests' reasoning). */
  why?: string;
}

export type Picture =
  | { kind: 'map'; title: string; values: ArrayLike<number>; rows: number; cols: number; signed?: boolean; gamma?: number }
  | { kind: 'bars'; title: string; values: ArrayLike<number>; mark?: ArrayLike<number>; markLabel?: string }
  /** Any drawing, e.g. a studio component fed the kernel's output. */
  | { kind: 'node'; title: string; node: ReactNode };

/** What a story gives the harness: built from the args on the shared device. */
export interface KernelRun<R> {
  /** One line saying what runs, with its shapes. */
  title: string;
  dispatches: Dispatch[];
  inputs: Picture[];
  /** The float64 reference of the kernel's outputs (timed on the CPU). */
  reference(): R;
  /** Reads the GPU outputs back and compares them with the reference. */
  compare(ref: R): Promise<{ checks: Check[]; outputs: Picture[] }>;
  dispose(): void;
}

export type MakeRun<A extends KernelArgs> = (ctx: GpuContext, args: A) => KernelRun<unknown>;

let device: Promise<GpuContext> | null = null;
/** One device per page: every story rendered in this iframe shares it. */
export function sharedDevice(): Promise<GpuContext> {
  if (!device) {
    device = acquireDevice(navigator.gpu);
    device.catch(() => (device = null));
  }
  return device;
}

const REPEATS = 7;

interface Outcome {
  state: 'running' | 'pass' | 'fail' | 'error';
  title?: string;
  adapter?: string;
  checks?: Check[];
  inputs?: Picture[];
  outputs?: Picture[];
  gpuMs?: number | null;
  timingNote?: string;
  cpuMs?: number;
  message?: string;
}

async function execute<A extends KernelArgs>(make: MakeRun<A>, args: A): Promise<Outcome> {
  const ctx = await sharedDevice();
  const k = make(ctx, args);
  try {
    await checked(ctx.device, k.title, () => run(ctx, k.dispatches));
    const t0 = performance.now();
    const ref = k.reference();
    const cpuMs = performance.now() - t0;
    const { checks, outputs } = await k.compare(ref);
    let gpuMs: number | null = null;
    let timingNote = '';
    if (ctx.hasTimestamps) {
      // The first run above compiled the pipelines; these repeats time the kernels alone.
      const timer = new GpuTimer(ctx);
      const totals: number[] = [];
      try {
        for (let r = 0; r < REPEATS; r++) {
          await run(ctx, k.dispatches, timer);
          totals.push((await timer.read()).reduce((a, p) => a + p.ms, 0));
        }
      } finally {
        timer.destroy();
      }
      gpuMs = median(totals);
      timingNote = `median of ${REPEATS} runs, timestamp queries, ${k.dispatches.length} pass${k.dispatches.length > 1 ? 'es' : ''}`;
    } else timingNote = 'this adapter has no timestamp-query feature';
    const pass = checks.length > 0 && checks.every(passes);
    return { state: pass ? 'pass' : 'fail', title: k.title, adapter: describeAdapter(ctx.adapter), checks, inputs: k.inputs, outputs, gpuMs, timingNote, cpuMs };
  } finally {
    k.dispose();
  }
}

const passes = (c: Check) => Number.isFinite(c.error) && c.error <= c.tolerance;
const num = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 1e-2 && Math.abs(x) < 1e4 ? x.toPrecision(3) : x.toExponential(2));

export function statusText(o: Outcome): string {
  if (o.state === 'running') return 'running on WebGPU...';
  if (o.state === 'error') return `error: ${o.message}`;
  const checks = o.checks ?? [];
  const list = checks.map((c) => `${c.what} ${num(c.error)} ${passes(c) ? '<=' : '>'} ${num(c.tolerance)}`).join('; ');
  return o.state === 'pass' ? `matches reference: ${list}` : `MISMATCH against the reference: ${list}`;
}

/** Runs `make` for `args` whenever they change and shows the outcome. */
export function KernelStory<A extends KernelArgs>({ name, args, make }: { name: string; args: A; make: MakeRun<A> }) {
  const [o, setO] = useState<Outcome>({ state: 'running' });
  const key = JSON.stringify(args);
  useEffect(() => {
    let live = true;
    setO({ state: 'running' });
    execute(make, args).then(
      (r) => live && setO(r),
      (e: unknown) => live && setO({ state: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, make]);
  const color = o.state === 'pass' ? 'var(--good)' : o.state === 'running' ? 'var(--muted)' : 'var(--bad)';
  return (
    <div className="panel" style={{ maxWidth: 1100 }}>
      <h2>{name}</h2>
      <div className="small-text">{o.title ?? ''} <span className="muted" data-testid="kernel-seed">· {args.pattern} inputs, seed {args.seed}</span></div>
      <div data-testid="kernel-status" data-state={o.state} role="status" style={{ color, fontSize: 14, margin: '8px 0', whiteSpace: 'pre-wrap' }}>
        {statusText(o)}
      </div>
      {o.checks ? (
        <table className="small-text" style={{ borderCollapse: 'collapse' }}>
          <thead>
            <tr><th align="left">checked against float64</th><th align="right">error</th><th align="right">tolerance</th><th align="left">why this tolerance</th></tr>
          </thead>
          <tbody>
            {o.checks.map((c) => (
              <tr key={c.what} style={{ color: passes(c) ? undefined : 'var(--bad)' }}>
                <td style={{ paddingRight: 12 }}>{c.what}</td>
                <td align="right" style={{ paddingRight: 12 }}>{num(c.error)}</td>
                <td align="right" style={{ paddingRight: 12 }}>{num(c.tolerance)}</td>
                <td className="muted">{c.why ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {o.state === 'pass' || o.state === 'fail' ? (
        <div className="small-text" data-testid="kernel-timing">
          GPU: <strong>{o.gpuMs === null || o.gpuMs === undefined ? 'not timed' : `${o.gpuMs.toFixed(3)} ms`}</strong> ({o.timingNote}) · CPU float64 reference: <strong>{o.cpuMs!.toFixed(1)} ms</strong> · {o.adapter}
        </div>
      ) : null}
      {o.inputs ? <Pictures title="Inputs" list={o.inputs} /> : null}
      {o.outputs ? <Pictures title="Outputs (GPU)" list={o.outputs} /> : null}
    </div>
  );
}

function Pictures({ title, list }: { title: string; list: Picture[] }) {
  return (
    <>
      <h2 style={{ marginTop: 14 }}>{title}</h2>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 16, alignItems: 'flex-start' }}>
        {list.map((p) => (
          <figure key={p.title} style={{ margin: 0 }}>
            {p.kind === 'map' ? <MapPicture p={p} /> : p.kind === 'bars' ? <Bars p={p} /> : p.node}
            <figcaption className="small-text muted" style={{ maxWidth: 260 }}>{p.title}{p.kind === 'map' ? ` (${p.rows} x ${p.cols}${p.rows !== p.cols ? ', drawn square' : ''})` : ''}</figcaption>
          </figure>
        ))}
      </div>
    </>
  );
}

/** A heat map (HeatCanvas); signed data is shifted to [0, 1] first (min black, max yellow). */
function MapPicture({ p }: { p: Extract<Picture, { kind: 'map' }> }) {
  let values: Float32Array;
  if (p.signed) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < p.values.length; i++) { lo = Math.min(lo, p.values[i]); hi = Math.max(hi, p.values[i]); }
    values = Float32Array.from(p.values, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
  } else values = Float32Array.from(p.values);
  return <HeatCanvas values={values} rows={p.rows} cols={p.cols} size={200} gamma={p.gamma ?? (p.signed ? 1 : 0.4)} label={p.title} />;
}

/** Bars over an index (keys or rows); `mark` colours the marked ones green. */
function Bars({ p }: { p: Extract<Picture, { kind: 'bars' }> }) {
  const W = 320, H = 90;
  const n = p.values.length;
  let lo = 0, hi = 0;
  for (let i = 0; i < n; i++) { lo = Math.min(lo, p.values[i]); hi = Math.max(hi, p.values[i]); }
  const span = hi - lo || 1;
  const bw = W / Math.max(1, n);
  const y = (v: number) => H - ((v - lo) / span) * H;
  return (
    <svg width={W} height={H + 14} role="img" aria-label={p.title}>
      <line x1={0} x2={W} y1={y(0)} y2={y(0)} stroke="#323846" />
      {Array.from({ length: n }, (_, i) => {
        const v = p.values[i];
        const top = Math.min(y(v), y(0));
        return <rect key={i} x={i * bw} y={top} width={Math.max(0.8, bw - (bw > 3 ? 1 : 0))} height={Math.max(0.5, Math.abs(y(v) - y(0)))} fill={p.mark && p.mark[i] ? '#5fd39a' : '#f2b84b'} />;
      })}
      <text x={0} y={H + 12} fill="#9aa3b2" fontSize={10}>{n} values, {num(lo)} .. {num(hi)}{p.mark ? ` · green: ${p.markLabel ?? 'marked'}` : ''}</text>
    </svg>
  );
}
