// Recall vs density of SampleAttention and its rivals on the same head (or the model's mean):
// one line per pattern, the oracle (best any mask of that density can do) dashed on top.
import { scaleLinear } from 'd3';
import type { PatternName, RivalCurve } from '../../../sampleattention/studies/rivals';
import { PALETTE, PATTERNS } from '../../../render/palette';

/** The studio's style of each pattern: the shared palette's dark colour. */
export const PATTERN_STYLE = Object.fromEntries(Object.entries(PATTERNS).map(([k, p]) => [k, { color: p.dark, label: p.label, dash: p.dash }])) as Record<PatternName, { color: string; label: string; dash?: string }>;

/** `mark`: the head's current setting, in the colour of its variant's curve (`pattern`). */
export function RivalsPlot({ curves, label, mark }: { curves: RivalCurve[]; label: string; mark?: { density: number; recall: number; pattern?: PatternName } | null }) {
  const markColor = PATTERNS[mark?.pattern ?? 'sampleattention'].dark;
  const W = 360, H = 230, m = { l: 44, r: 12, t: 10, b: 34 };
  const all = curves.flatMap((c) => c.points);
  const rMin = Math.min(...all.map((p) => p.recallMean), mark?.recall ?? 1);
  const x = scaleLinear().domain([0, 1]).range([m.l, W - m.r]);
  const y = scaleLinear().domain([Math.max(0, Math.floor(rMin * 10) / 10), 1]).range([H - m.b, m.t]);
  const line = (c: RivalCurve) => [...c.points].sort((a, b) => a.density - b.density).map((p, i) => `${i ? 'L' : 'M'}${x(p.density).toFixed(1)},${y(p.recallMean).toFixed(1)}`).join('');
  return (
    <figure className="plot">
      <svg width={W} height={H} role="img" aria-label={label}>
        {x.ticks(5).map((t) => (
          <g key={`x${t}`}>
            <line x1={x(t)} x2={x(t)} y1={m.t} y2={H - m.b} stroke={PALETTE.grid} />
            <text x={x(t)} y={H - m.b + 13} fontSize={10} fill={PALETTE.axisText} textAnchor="middle">{t}</text>
          </g>
        ))}
        {y.ticks(5).map((t) => (
          <g key={`y${t}`}>
            <line x1={m.l} x2={W - m.r} y1={y(t)} y2={y(t)} stroke={PALETTE.grid} />
            <text x={m.l - 5} y={y(t) + 3} fontSize={10} fill={PALETTE.axisText} textAnchor="end">{t.toFixed(2)}</text>
          </g>
        ))}
        <text x={(m.l + W - m.r) / 2} y={H - 4} fontSize={10.5} fill={PALETTE.axisText} textAnchor="middle">density (share of the causal map kept)</text>
        <text x={11} y={(m.t + H - m.b) / 2} fontSize={10.5} fill={PALETTE.axisText} textAnchor="middle" transform={`rotate(-90 11 ${(m.t + H - m.b) / 2})`}>mean row recall</text>
        {/* SampleAttention last, so it is drawn on top of its rivals. */}
        {[...curves].sort((a, b) => Number(a.pattern === 'sampleattention') - Number(b.pattern === 'sampleattention')).map((c) => {
          const st = PATTERN_STYLE[c.pattern];
          return (
            <g key={c.pattern} data-pattern={c.pattern}>
              <path d={line(c)} fill="none" stroke={st.color} strokeWidth={c.pattern === 'sampleattention' ? 2.2 : 1.5} strokeDasharray={st.dash} />
              {c.points.map((p, i) => (
                <circle key={i} cx={x(p.density)} cy={y(p.recallMean)} r={2.2} fill={st.color}>
                  <title>{`${st.label}: ${c.knob} ${+p.knob.toFixed(4)}: density ${p.density.toFixed(4)}, recall mean ${p.recallMean.toFixed(4)}, min ${p.recallMin.toFixed(4)}, P5 ${p.recallP5.toFixed(4)}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
        {mark ? (
          <g>
            <circle cx={x(mark.density)} cy={y(mark.recall)} r={5.5} fill="none" stroke={markColor} strokeWidth={2} data-testid="rivals-mark" data-mark-pattern={mark.pattern ?? 'sampleattention'} />
            <title>{`current setting: density ${mark.density.toFixed(4)}, recall ${mark.recall.toFixed(4)}`}</title>
          </g>
        ) : null}
      </svg>
      <div className="legend">
        {curves.map((c) => <span key={c.pattern}><i style={{ background: PATTERN_STYLE[c.pattern].color }} />{PATTERN_STYLE[c.pattern].label}</span>)}
        {mark ? <span><i style={{ border: `2px solid ${markColor}`, background: 'transparent', width: 8, height: 8, borderRadius: 6 }} />current setting</span> : null}
      </div>
    </figure>
  );
}
