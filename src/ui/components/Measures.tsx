// Measures of the chosen head and of the whole model, kernel latency (either variant's kernels),
// and two plots: recall vs density as alpha moves (the chosen head; blocks: both alphas together)
// and per-layer bars.
import { scaleLinear } from 'd3';
import { headName, useStudio } from '../../state/store';
import { chosenSelection, layerSummaries, modelSummary, paramsFor, type Summary } from '../../state/selectors';
import type { HeadResult } from '../../sampleattention/spec/setting';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Each variant's stage-1 estimates: tokens' one, blocks' column and slash (a mean per variant
 * over the model's heads of that variant). */
function stage1Of(m: Summary | HeadResult): { tokens: number | null; column: number | null; slash: number | null } {
  if ('heads' in m) return { tokens: m.stage1Estimate, column: m.stage1ColumnEstimate, slash: m.stage1SlashEstimate };
  return m.variant === 'tokens' ? { tokens: m.stage1Estimate, column: null, slash: null } : { tokens: null, column: m.stage1ColumnEstimate, slash: m.stage1SlashEstimate };
}

function Rows({ m, testid }: { m: Summary | HeadResult; testid: string }) {
  const st = stage1Of(m);
  return (
    <dl className="kv measures" data-testid={testid}>
      <dt>Recall</dt>
      <dd data-testid={`${testid}-recall`}>mean {f3(m.recallMean)} · min {f3(m.recallMin)} · p5 {f3(m.recallP5)}</dd>
      <dt>Density</dt>
      <dd data-testid={`${testid}-density`}>{pct(m.density)} of the causal map</dd>
      {st.tokens !== null ? <><dt>Stage-1 estimate</dt><dd data-testid={`${testid}-stage1`}>{f3(st.tokens)}</dd></> : null}
      {st.column !== null ? <><dt>Stage-1 (blocks)</dt><dd data-testid={`${testid}-stage1-blocks`}>column {f3(st.column)} · slash {f3(st.slash ?? NaN)}</dd></> : null}
      <dt>Output error</dt>
      <dd>{m.outputError === undefined || m.outputError === null ? 'needs v' : m.outputError.toExponential(2)}</dd>
    </dl>
  );
}

export function Measures() {
  const s = useStudio();
  const sel = chosenSelection(s);
  const all = modelSummary(s);
  const c = s.chosen;
  return (
    <section className="panel" aria-label="Measures">
      <h2>Measures{c ? `: ${headName(c.layer, c.head)}` : ''}</h2>
      {sel ? <Rows m={sel} testid="head" /> : <div className="muted">No head chosen.</div>}
      {sel ? <div className="muted small-text" data-testid="head-kept">{sel.variant === 'tokens'
        ? `${sel.selectedKeys.length} keys kept, window ${sel.window}, ${sel.sampledRows.length} sampled rows`
        : `blocks of ${sel.blockSize}: ${sel.columnBlocks.length} column blocks and ${sel.slashBands.length} slash bands kept, ${sel.sampledRows.length} sampled rows`}</div> : null}
      <Latency />
      <h2 style={{ marginTop: 14 }}>Whole model{all ? ` (${all.heads} heads)` : ''}</h2>
      {all ? <Rows m={all} testid="model" /> : <div className="muted">{s.busy ? 'Computing...' : '-'}</div>}
      <SweepPlot />
      <LayerBars />
    </section>
  );
}

/** "dense 1.234 ms · sparse 0.456 ms" (tokens) or "dense ... · stages ... + block-sparse ..."
 * (blocks), and the speedup of the head's timed work over dense. */
const times = (t: { denseMs: number; sparseMs: number; stagesMs?: number }) => t.stagesMs !== undefined
  ? `dense ${t.denseMs.toFixed(3)} ms · stages ${t.stagesMs.toFixed(3)} ms + block-sparse ${t.sparseMs.toFixed(3)} ms`
  : `dense ${t.denseMs.toFixed(3)} ms · sparse ${t.sparseMs.toFixed(3)} ms`;
const speedup = (t: { denseMs: number; sparseMs: number; stagesMs?: number }) => (t.denseMs / ((t.stagesMs ?? 0) + t.sparseMs)).toFixed(2);

function Latency() {
  const lat = useStudio((s) => s.latency);
  const sel = useStudio(chosenSelection);
  if (!sel) return null;
  if (!lat) return <dl className="kv measures"><dt>Kernel latency</dt><dd className="muted">measuring...</dd></dl>;
  if (lat.note) return <dl className="kv measures"><dt>Kernel latency</dt><dd className="muted">{lat.note}</dd></dl>;
  // What was timed, by variant: tokens times its sparse pass on the kept keys (its stages are not
  // in the figure); blocks times its whole work, stages 1+2 and the block-sparse pass.
  const what = lat.variant === 'blocks' ? 'blocks: stages 1+2 and the block-sparse pass' : 'tokens: the sparse pass over the kept keys and window';
  return (
    <dl className="kv measures" data-testid="latency">
      <dt>Kernel latency</dt>
      <dd data-testid="latency-variant">{what}</dd>
      <dt>f32</dt>
      <dd data-testid="latency-f32">{times(lat)}</dd>
      {lat.f16 ? <><dt>On tensor cores</dt><dd data-testid="latency-f16">f16: {times(lat.f16)}</dd></> : null}
      <dt>Speedup</dt>
      <dd><strong data-testid="latency-speedup">{speedup(lat)}x</strong>{lat.f16 ? <> · f16 {speedup(lat.f16)}x</> : null} <span className="muted">(median of {lat.repeats} runs, timestamp queries, this head alone)</span></dd>
      <dt>Adapter</dt>
      <dd className="muted">{lat.adapter}</dd>
    </dl>
  );
}

function SweepPlot() {
  const sweep = useStudio((s) => s.sweep);
  const sel = useStudio(chosenSelection);
  // paramsFor builds a new object: computed from the store's own (stable) fields, not in a selector.
  const chosen = useStudio((s) => s.chosen);
  const defaults = useStudio((s) => s.defaults);
  const overrides = useStudio((s) => s.overrides);
  const p = chosen ? paramsFor({ defaults, overrides }, chosen.layer, chosen.head) : defaults;
  const W = 300, H = 150, m = { l: 40, r: 10, t: 10, b: 28 };
  // A sweep of another variant than the head's (a switch not yet measured) is not drawn.
  if (!sweep || !sel || sweep.variant !== p.variant) return null;
  // The head's operating point: tokens' alpha, or blocks' two alphas (on the curve when equal).
  const here = p.variant === 'tokens' ? `alpha ${p.alpha}` : p.alphaColumn === p.alphaSlash ? `alphas ${p.alphaColumn}` : `alphas ${p.alphaColumn}/${p.alphaSlash}`;
  const knob = sweep.variant === 'tokens' ? 'alpha' : 'alphaColumn = alphaSlash';
  const caption = sweep.variant === 'tokens'
    ? 'Recall vs density as alpha moves (this head, tokens)'
    : `Recall vs density as alphaColumn = alphaSlash move (this head, blocks of ${sweep.blockSize})`;
  const pts = sweep.points;
  const dMax = Math.max(sel.density, ...pts.map((p) => p.density));
  const rMin = Math.min(sel.recallMean, ...pts.map((p) => p.recallMean));
  const x = scaleLinear().domain([0, Math.min(1, dMax * 1.05)]).range([m.l, W - m.r - 6]);
  const y = scaleLinear().domain([Math.min(rMin, 0.99) - 0.005, 1]).range([H - m.b, m.t]);
  const path = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.density)},${y(p.recallMean)}`).join('');
  return (
    <figure className="plot" data-testid="sweep" data-variant={sweep.variant}>
      <figcaption data-testid="sweep-caption">{caption}</figcaption>
      <svg width={W} height={H} role="img" aria-label={`Recall versus density as ${knob} moves`}>
        <line x1={m.l} x2={W - m.r} y1={H - m.b} y2={H - m.b} stroke="#323846" />
        <line x1={m.l} x2={m.l} y1={m.t} y2={H - m.b} stroke="#323846" />
        <path d={path} fill="none" stroke="#f2b84b" />
        {pts.map((p) => (
          <g key={p.alpha}>
            <circle cx={x(p.density)} cy={y(p.recallMean)} r={2.5} fill="#f2b84b" />
            <title>{knob} {p.alpha}: recall {p.recallMean.toFixed(4)}, density {pct(p.density)}</title>
          </g>
        ))}
        <circle cx={x(sel.density)} cy={y(sel.recallMean)} r={5} fill="none" stroke="#5fd39a" strokeWidth={2} />
        {/* Near the right edge the label goes to the left of the point, so it is never cut off. */}
        <text x={x(sel.density) + (x(sel.density) > W - 80 ? -7 : 7)} y={y(sel.recallMean) + 12} fill="#5fd39a" fontSize={10} textAnchor={x(sel.density) > W - 80 ? 'end' : 'start'}>{here}</text>
        <text x={(m.l + W) / 2} y={H - 6} fill="#9aa3b2" fontSize={10} textAnchor="middle">density (0 .. {pct(x.domain()[1])})</text>
        <text x={4} y={m.t + 8} fill="#9aa3b2" fontSize={10}>recall</text>
        <text x={4} y={H - m.b} fill="#9aa3b2" fontSize={10}>{y.domain()[0].toFixed(2)}</text>
      </svg>
    </figure>
  );
}

function LayerBars() {
  const s = useStudio();
  const sums = layerSummaries(s);
  if (sums.length === 0) return null;
  const W = 300, rowH = Math.max(10, Math.min(18, Math.floor(220 / sums.length)));
  const H = sums.length * rowH + 20;
  const half = (W - 40) / 2;
  return (
    <figure className="plot">
      <figcaption>Per layer: recall (mean, green) and density (amber)</figcaption>
      <svg width={W} height={H} role="img" aria-label="Per-layer recall and density">
        {sums.map((m, l) => (
          <g key={l} transform={`translate(0, ${l * rowH})`}>
            <text x={0} y={rowH - 3} fill="#9aa3b2" fontSize={10}>L{l}</text>
            {m ? (
              <>
                <rect x={28} y={2} width={Math.max(1, half * m.recallMean)} height={rowH - 4} fill="#5fd39a" opacity={0.85}>
                  <title>layer {l}: recall {m.recallMean.toFixed(4)}</title>
                </rect>
                <rect x={34 + half} y={2} width={Math.max(1, half * m.density)} height={rowH - 4} fill="#f2b84b" opacity={0.85}>
                  <title>layer {l}: density {pct(m.density)}</title>
                </rect>
              </>
            ) : null}
          </g>
        ))}
        <text x={28} y={H - 4} fill="#9aa3b2" fontSize={10}>recall 0 .. 1</text>
        <text x={34 + half} y={H - 4} fill="#9aa3b2" fontSize={10}>density 0 .. 100%</text>
      </svg>
    </figure>
  );
}
