// Auto-tune in the studio: the rule and grid of `sa-studio tune`, run on the open text; the result
// becomes every head's parameters, and the chosen density of each head is drawn as a grid.
import { useState } from 'react';
import { scaleSequential, interpolateViridis } from 'd3';
import { useStudio } from '../../../state/store';
import { runTune } from '../../../state/check-actions';
import { DEFAULT_GRID, ruleText, type TuneGrid } from '../../../sampleattention/studies/tune';
import { TaskStatus } from './TaskStatus';

/** The command line's grid, plus windowRatio 1 (the full mask), so every head can meet the rule. */
const STUDIO_GRID: TuneGrid = { ...DEFAULT_GRID, windowRatio: [...DEFAULT_GRID.windowRatio, 1] };

/** "0.8, 0.9" -> [0.8, 0.9], or the reason it is not a list of numbers in (lo, 1]. */
export function parseList(name: string, text: string, lowOpen: boolean): number[] | string {
  const xs = text.split(/[,\s]+/).filter((t) => t.length > 0).map(Number);
  if (xs.length === 0) return `${name}: give at least one value.`;
  for (const x of xs) if (!Number.isFinite(x) || x > 1 || (lowOpen ? x <= 0 : x < 0)) return `${name}: ${x} is not in ${lowOpen ? '(0' : '[0'}, 1].`;
  return xs;
}

export function TunePanel() {
  const report = useStudio((s) => s.tuneReport);
  const task = useStudio((s) => s.task);
  const ready = useStudio((s) => !!s.prefill && !s.busy);
  const [target, setTarget] = useState('0.95');
  const [p5, setP5] = useState('0.8');
  const [alphas, setAlphas] = useState(STUDIO_GRID.alpha.join(', '));
  const [rows, setRows] = useState(STUDIO_GRID.rowRatio.join(', '));
  const [windows, setWindows] = useState(STUDIO_GRID.windowRatio.join(', '));
  const t = Number(target);
  const m = p5.trim() === '' ? undefined : Number(p5);
  const lists = [parseList('alpha', alphas, true), parseList('row ratio', rows, true), parseList('window ratio', windows, false)];
  const problem = !(t > 0 && t <= 1) ? 'Target recall must be in (0, 1].' : m !== undefined && !(m >= 0 && m <= 1) ? 'Minimum row recall must be in [0, 1] (or empty).' : lists.find((x) => typeof x === 'string') as string | undefined;
  const grid = problem ? null : { alpha: lists[0] as number[], rowRatio: lists[1] as number[], windowRatio: lists[2] as number[] };
  const points = grid ? grid.alpha.length * grid.rowRatio.length * grid.windowRatio.length : 0;
  return (
    <section className="panel" aria-label="Auto-tune">
      <h2>Auto-tune</h2>
      <div className="muted small-text">Per head, the lowest-density setting of the grid whose recall meets the target on this text (as <code>sa-studio tune</code>).</div>
      <div className="form-grid">
        <label htmlFor="tune-target">Target recall</label><input id="tune-target" type="number" step={0.01} min={0} max={1} value={target} onChange={(e) => setTarget(e.target.value)} />
        <label htmlFor="tune-p5">Min row recall (P5)</label><input id="tune-p5" type="number" step={0.05} min={0} max={1} value={p5} placeholder="none" onChange={(e) => setP5(e.target.value)} />
        <label htmlFor="tune-alphas">Alphas</label><input id="tune-alphas" type="text" value={alphas} onChange={(e) => setAlphas(e.target.value)} />
        <label htmlFor="tune-rows">Row ratios</label><input id="tune-rows" type="text" value={rows} onChange={(e) => setRows(e.target.value)} />
        <label htmlFor="tune-windows">Window ratios</label><input id="tune-windows" type="text" value={windows} onChange={(e) => setWindows(e.target.value)} />
      </div>
      {problem ? <div className="status error">{problem}</div> : <div className="muted small-text">{points} grid points x every layer</div>}
      <div className="row">
        <button disabled={!grid || !ready || !!task} onClick={() => grid && void runTune({ targetRecall: t, minRowRecall: m }, grid)}>Tune</button>
      </div>
      <TaskStatus kinds={['tune']} />
      {report ? <TuneGridView /> : null}
    </section>
  );
}

function TuneGridView() {
  const r = useStudio((s) => s.tuneReport)!;
  const all = r.choices.flat();
  const heads = r.choices[0]?.length ?? 0;
  const cell = Math.max(12, Math.min(28, Math.floor(260 / Math.max(1, heads))));
  const color = scaleSequential(interpolateViridis).domain([0, 1]);
  const mean = all.reduce((a, c) => a + c.meanDensity, 0) / all.length;
  const met = all.filter((c) => c.met).length;
  return (
    <figure className="plot" data-testid="tune-report">
      <figcaption>Chosen density per layer x head ({r.tokens} tokens; rule: {ruleText(r.rule)}; a cross marks a head no grid point satisfies)</figcaption>
      <svg width={28 + heads * cell} height={14 + r.choices.length * cell} role="img" aria-label="Tuned density per layer and head">
        {Array.from({ length: heads }, (_, h) => <text key={h} x={28 + h * cell + cell / 2} y={10} fontSize={9} fill="#9aa3b2" textAnchor="middle">h{h}</text>)}
        {r.choices.map((layer, l) => (
          <g key={l} transform={`translate(0, ${14 + l * cell})`}>
            <text x={0} y={cell * 0.7} fontSize={9} fill="#9aa3b2">L{l}</text>
            {layer.map((c, h) => (
              <g key={h}>
                <rect x={28 + h * cell} y={0} width={cell - 1} height={cell - 1} fill={color(c.meanDensity)}>
                  <title>{`Layer ${l} head ${h}: alpha ${c.params.alpha}, rowRatio ${c.params.rowRatio}, windowRatio ${c.params.windowRatio}; density ${c.meanDensity.toFixed(3)}, recall ${c.worstRecallMean.toFixed(4)}, P5 ${c.worstRecallP5.toFixed(4)}${c.met ? '' : ' (rule not met)'}`}</title>
                </rect>
                {c.met ? null : <path d={`M${28 + h * cell + 3},3 l${cell - 7},${cell - 7} M${28 + h * cell + cell - 4},3 l${-(cell - 7)},${cell - 7}`} stroke="#ff6b6b" strokeWidth={1.5} />}
              </g>
            ))}
          </g>
        ))}
      </svg>
      <dl className="kv">
        <dt>model density</dt><dd data-testid="tune-density">{mean.toFixed(4)}</dd>
        <dt>worst head recall</dt><dd>{Math.min(...all.map((c) => c.worstRecallMean)).toFixed(4)} (P5 {Math.min(...all.map((c) => c.worstRecallP5)).toFixed(4)})</dd>
        <dt>heads meeting the rule</dt><dd data-testid="tune-met">{met} of {all.length}</dd>
      </dl>
      <div className="legend"><span><i style={{ background: color(0) }} />density 0</span><span><i style={{ background: color(0.5) }} />0.5</span><span><i style={{ background: color(1) }} />1</span></div>
    </figure>
  );
}
