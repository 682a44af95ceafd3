// Measures of the chosen head and of the whole model, kernel latency, and two plots: recall vs
// density as alpha moves (the chosen head) and per-layer bars.
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

function Latency() {
  const lat = useStudio((s) => s.latency);
  const sel = useStudio(chosenSelection);
  if (!sel) return null;
  if (!lat) return <dl className="kv measures"><dt>Kernel latency</dt><dd className="muted">measuring...</dd></dl>;
  if (lat.note) return <dl className="kv measures"><dt>Kernel latency</dt><dd className="muted">{lat.note}</dd></dl>;
  return (
    <dl className="kv measures" data-testid="latency">
      <dt>Kernel latency</dt>
      <dd>f32: dense {lat.denseMs.toFixed(3)} ms · sparse {lat.sparseMs.toFixed(3)} ms</dd>
      {lat.f16 ? <><dt>On tensor cores</dt><dd data-testid="latency-f16">f16: dense {lat.f16.denseMs.toFixed(3)} ms · sparse {lat.f16.sparseMs.toFixed(3)} ms</dd></> : null}
      <dt>Speedup</dt>
      <dd><strong>{(lat.denseMs / lat.sparseMs).toFixed(2)}x</strong>{lat.f16 ? <> · f16 {(lat.f16.denseMs / lat.f16.sparseMs).toFixed(2)}x</> : null} <span className="muted">(median of {lat.repeats} runs, timestamp queries, this head alone)</span></dd>
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
  // The sweep moves tokens' alpha: a blocks head has none (params.ts clears it).
  if (!sweep || !sel || p.variant !== 'tokens') return null;
  const alpha = p.alpha;
  const pts = sweep.points;
  const dMax = Math.max(sel.density, ...pts.map((p) => p.density));
  const rMin = Math.min(sel.recallMean, ...pts.map((p) => p.recallMean));
  const x = scaleLinear().domain([0, Math.min(1, dMax * 1.05)]).range([m.l, W - m.r - 6]);
  const y = scaleLinear().domain([Math.min(rMin, 0.99) - 0.005, 1]).range([H - m.b, m.t]);
  const path = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.density)},${y(p.recallMean)}`).join('');
  return (
    <figure className="plot">
      <figcaption>Recall vs density as alpha moves (this head)</figcaption>
      <svg width={W} height={H} role="img" aria-label="Recall versus density as alpha moves">
        <line x1={m.l} x2={W - m.r} y1={H - m.b} y2={H - m.b} stroke="#323846" />
        <line x1={m.l} x2={m.l} y1={m.t} y2={H - m.b} stroke="#323846" />
        <path d={path} fill="none" stroke="#f2b84b" />
        {pts.map((p) => (
          <g key={p.alpha}>
            <circle cx={x(p.density)} cy={y(p.recallMean)} r={2.5} fill="#f2b84b" />
            <title>alpha {p.alpha}: recall {p.recallMean.toFixed(4)}, density {pct(p.density)}</title>
          </g>
        ))}
        <circle cx={x(sel.density)} cy={y(sel.recallMean)} r={5} fill="none" stroke="#5fd39a" strokeWidth={2} />
        {/* Near the right edge the label goes to the left of the point, so it is never cut off. */}
        <text x={x(sel.density) + (x(sel.density) > W - 80 ? -7 : 7)} y={y(sel.recallMean) + 12} fill="#5fd39a" fontSize={10} textAnchor={x(sel.density) > W - 80 ? 'end' : 'start'}>alpha {alpha}</text>
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
