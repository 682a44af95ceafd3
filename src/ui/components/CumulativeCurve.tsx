// Stage 2's cut-off: keys sorted by column score, the cumulative share of the sampled mass they
// hold, the alpha line and where the selection stops (the GPU's kept count).
import { useMemo } from 'react';
import { line, scaleLinear } from 'd3';

export function CumulativeCurve({ scores, kept, rows, alpha, width }: { scores: Float32Array; kept: number; rows: number; alpha: number; width: number }) {
  const height = 120;
  const m = { l: 36, r: 10, t: 8, b: 22 };
  const cum = useMemo(() => {
    const sorted = Float64Array.from(scores).sort().reverse();
    const out = new Float64Array(sorted.length);
    let s = 0;
    for (let t = 0; t < sorted.length; t++) out[t] = s += sorted[t];
    const total = s || 1;
    for (let t = 0; t < out.length; t++) out[t] /= total;
    return out;
  }, [scores]);
  const S = cum.length;
  // Log x axis: the interesting part is the first few percent of keys.
  const x = scaleLinear().domain([0, Math.log10(S + 1)]).range([m.l, width - m.r]);
  const X = (rank: number) => x(Math.log10(rank + 1));
  const y = scaleLinear().domain([0, 1]).range([height - m.b, m.t]);
  const path = line<number>().x((_, t) => X(t + 1)).y((v) => y(v))(Array.from(cum)) ?? '';
  const reached = cum[Math.max(0, kept - 1)] ?? 1;
  const ticks = [1, 10, 100, 1000, 10000, 100000].filter((v) => v <= S);
  return (
    <svg width={width} height={height} role="img" aria-label="Stage 2 cumulative column-score curve" className="curve">
      <line x1={m.l} x2={width - m.r} y1={y(alpha)} y2={y(alpha)} stroke="#e6e8ee" strokeDasharray="3 3" />
      <text x={m.l + 4} y={y(alpha) - 4} fill="#e6e8ee" fontSize={10}>alpha = {alpha}</text>
      <path d={path} fill="none" stroke="#f2b84b" strokeWidth={1.5} />
      <line x1={X(kept)} x2={X(kept)} y1={m.t} y2={height - m.b} stroke="#5fd39a" />
      {/* The label sits on whichever side of the cut-off has room. */}
      <text x={X(kept) > width / 2 ? X(kept) - 6 : X(kept) + 6} y={y(0.25)} fill="#5fd39a" fontSize={11} textAnchor={X(kept) > width / 2 ? 'end' : 'start'}>{kept} of {S} keys kept: {(100 * reached).toFixed(1)}% of sampled mass ({rows} rows)</text>
      {ticks.map((v) => (
        <text key={v} x={X(v)} y={height - 6} fill="#9aa3b2" fontSize={10} textAnchor="middle">{v}</text>
      ))}
      <text x={4} y={y(1) + 4} fill="#9aa3b2" fontSize={10}>1.0</text>
      <text x={4} y={y(0.5) + 4} fill="#9aa3b2" fontSize={10}>0.5</text>
      <text x={m.l + 4} y={y(0.5) + 4} fill="#9aa3b2" fontSize={10}>cumulative share of sampled mass, keys by score (log axis)</text>
    </svg>
  );
}
