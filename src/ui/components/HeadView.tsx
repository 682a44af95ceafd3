// The chosen head (d3): its attention map with zoom and pan (d3-zoom) down to single tokens,
// token labels on hover, and SampleAttention's stages as overlays switched on one by one in the
// algorithm's order. Beside the map: per-row recall along the sequence (same vertical zoom);
// above it: stage-1 column scores as bars on the key axis (same horizontal zoom).
import { useEffect, useMemo, useRef, useState } from 'react';
import { select, zoom as d3zoom, zoomIdentity, type ZoomTransform } from 'd3';
import { OVERLAYS, headName, useStudio } from '../../state/store';
import { setOverlay } from '../../state/actions';
import { chosenSelection, paramsFor } from '../../state/selectors';
import { gridCanvas, tintCanvas } from './colors';
import { CumulativeCurve } from './CumulativeCurve';

const BAR_H = 64;
const RECALL_W = 120;

export function HeadView({ size }: { size: number }) {
  const detail = useStudio((s) => s.detail);
  const prefill = useStudio((s) => s.prefill);
  const overlay = useStudio((s) => s.overlay);
  const sel = useStudio(chosenSelection);
  const chosen = useStudio((s) => s.chosen);
  const alpha = useStudio((s) => (s.chosen ? paramsFor(s, s.chosen.layer, s.chosen.head).alpha : s.defaults.alpha));
  const mapRef = useRef<HTMLCanvasElement>(null);
  const barRef = useRef<HTMLCanvasElement>(null);
  const recallRef = useRef<HTMLCanvasElement>(null);
  const [t, setT] = useState<ZoomTransform>(zoomIdentity);
  const [hover, setHover] = useState<{ i: number; j: number; x: number; y: number } | null>(null);
  const S = prefill?.S ?? 1;
  const M = size;
  const px = M / S; // CSS pixels per token at zoom 1

  // Pre-rendered planes: one pixel per pooled cell, drawn scaled under the zoom transform.
  const images = useMemo(() => {
    if (!detail) return null;
    const p = detail.planes;
    const missedMax = p.missedMass.values.reduce((a, v) => (v > a ? v : a), 0);
    return {
      attention: gridCanvas(p.maxP.values, p.maxP.rows, p.maxP.cols),
      outside: tintCanvas(p.keptFraction.values, p.keptFraction.rows, p.keptFraction.cols, [12, 14, 20], (v) => (v > 0 ? 0.55 * (1 - v) : 0.82)),
      missed: tintCanvas(p.missedMass.values, p.missedMass.rows, p.missedMass.cols, [255, 64, 64], (v) => (missedMax > 0 ? Math.pow(v / missedMax, 0.5) : 0)),
      block: p.maxP.block,
      side: p.maxP.rows,
    };
  }, [detail]);

  // Zoom and pan on the map; the same transform drives the bars (x) and the recall chart (y).
  useEffect(() => {
    const canvas = mapRef.current;
    if (!canvas) return;
    const z = d3zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1, Math.max(2, S / 3)])
      .translateExtent([[0, 0], [M, M]])
      .extent([[0, 0], [M, M]])
      .on('zoom', (e) => setT(e.transform));
    const sel = select(canvas);
    sel.call(z);
    sel.on('dblclick.zoom', null);
    return () => {
      sel.on('.zoom', null);
    };
  }, [S, M]);

  useEffect(() => setT(zoomIdentity), [chosen?.layer, chosen?.head, S]);

  // The map and its overlays.
  useEffect(() => {
    const canvas = mapRef.current;
    if (!canvas || !images || !sel) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = M * dpr;
    canvas.height = M * dpr;
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#0b0c10';
    g.fillRect(0, 0, M, M);
    g.save();
    g.translate(t.x, t.y);
    g.scale(t.k, t.k);
    g.imageSmoothingEnabled = false;
    const span = images.side * images.block * px; // the pooled grid covers side*block tokens
    g.drawImage(images.attention, 0, 0, span, span);
    const hair = 1 / t.k;
    if (overlay >= 5) g.drawImage(images.outside, 0, 0, span, span);
    if (overlay >= 6) g.drawImage(images.missed, 0, 0, span, span);
    if (overlay >= 3 && overlay < 5) {
      // Stage 2: the kept key columns, from their own row down (causal).
      g.fillStyle = 'rgba(95, 211, 154, 0.33)';
      for (const j of sel.selectedKeys) g.fillRect(j * px, j * px, Math.max(px, hair), M - j * px);
    }
    if (overlay >= 4 && overlay < 5) {
      // The local window: keys i - w + 1 .. i of every row i (at least the diagonal).
      const w = Math.max(1, sel.window);
      g.fillStyle = 'rgba(120, 170, 255, 0.30)';
      g.beginPath();
      g.moveTo(0, 0);
      g.lineTo(M, M);
      g.lineTo(M - (w - 1) * px, M);
      g.lineTo(0, (w - 1) * px + px);
      g.closePath();
      g.fill();
    }
    if (overlay >= 1 && overlay < 5) {
      // Stage 1: the sampled query rows.
      g.strokeStyle = 'rgba(80, 220, 255, 0.9)';
      g.lineWidth = Math.max(hair, Math.min(px, 2 * hair));
      for (const i of sel.sampledRows) {
        g.beginPath();
        g.moveTo(0, (i + 0.5) * px);
        g.lineTo((i + 1) * px, (i + 0.5) * px);
        g.stroke();
      }
    }
    if (hover) {
      g.strokeStyle = '#fff';
      g.lineWidth = 1.5 * hair;
      g.strokeRect(hover.j * px, hover.i * px, px, px);
    }
    g.restore();
  }, [images, sel, overlay, t, M, px, hover]);

  // Stage-1 column scores as bars on the key axis.
  useEffect(() => {
    const canvas = barRef.current;
    if (!canvas || !detail || !sel) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = M * dpr;
    canvas.height = BAR_H * dpr;
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, M, BAR_H);
    const s = detail.scores;
    let max = 0;
    for (let j = 0; j < s.length; j++) if (s[j] > max) max = s[j];
    const kept = new Set(sel.selectedKeys);
    const w = Math.max(1, px * t.k);
    for (let j = 0; j < s.length; j++) {
      const x = t.x + t.k * j * px;
      if (x + w < 0 || x > M) continue;
      // sqrt scale: one sink column often holds most of the mass.
      const h = max > 0 ? Math.sqrt(s[j] / max) * (BAR_H - 4) : 0;
      g.fillStyle = overlay >= 3 && kept.has(j) ? '#5fd39a' : '#f2b84b';
      g.fillRect(x, BAR_H - h, Math.max(1, w - (w > 3 ? 1 : 0)), h);
    }
  }, [detail, sel, t, M, px, overlay]);

  // Per-row recall along the sequence, aligned with the map's rows.
  useEffect(() => {
    const canvas = recallRef.current;
    if (!canvas || !detail) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = RECALL_W * dpr;
    canvas.height = M * dpr;
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, RECALL_W, M);
    const r = detail.recall;
    const lo = Math.min(0.9, ...Array.from(r));
    const X = (v: number) => 8 + ((v - lo) / (1 - lo || 1)) * (RECALL_W - 16);
    g.strokeStyle = '#323846';
    g.beginPath();
    g.moveTo(X(1), 0);
    g.lineTo(X(1), M);
    g.stroke();
    g.strokeStyle = '#5fd39a';
    g.lineWidth = 1.5;
    g.beginPath();
    for (let i = 0; i < r.length; i++) {
      const y = t.y + t.k * (i + 0.5) * px;
      if (i === 0) g.moveTo(X(r[i]), y);
      else g.lineTo(X(r[i]), y);
    }
    g.stroke();
    g.fillStyle = '#9aa3b2';
    g.font = '10px system-ui';
    g.fillText(lo.toFixed(2), 2, M - 4);
    g.fillText('1', X(1) - 8, M - 4);
  }, [detail, t, M, px]);

  if (!detail || !sel || !prefill || !chosen) {
    return <div className="head-view empty">Pick a head in the overview.</div>;
  }
  const tokenAt = (i: number) => JSON.stringify(prefill.tokens[i] ?? '');
  const cellValue = (i: number, j: number) => {
    const p = detail.planes.maxP;
    return p.values[Math.floor(i / p.block) * p.cols + Math.floor(j / p.block)];
  };
  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const [x, y] = t.invert([e.clientX - r.left, e.clientY - r.top]);
    const i = Math.floor(y / px), j = Math.floor(x / px);
    if (i < 0 || j < 0 || i >= S || j >= S) return setHover(null);
    setHover({ i, j, x: e.clientX - r.left, y: e.clientY - r.top });
  };
  const keptSet = new Set(sel.selectedKeys);
  const inMask = (i: number, j: number) => j <= i && (keptSet.has(j) || i - j < Math.max(1, sel.window));

  return (
    <div className="head-view" aria-label={`Head view, ${headName(chosen.layer, chosen.head)}`} role="region">
      <div className="map-title">
        <strong data-testid="head-title">{headName(chosen.layer, chosen.head)}</strong>
        <span className="muted"> {S} tokens{images && images.block > 1 ? `, ${images.block} x ${images.block} tokens per cell (block max) until zoomed` : ', one cell per token'} · zoom {t.k.toFixed(1)}x</span>
        <button className="small" onClick={() => { if (mapRef.current) select(mapRef.current).call(d3zoom<HTMLCanvasElement, unknown>().transform, zoomIdentity); setT(zoomIdentity); }}>Reset zoom</button>
      </div>
      <OverlayStepper />
      <div className="head-grid" style={{ gridTemplateColumns: `${M}px ${RECALL_W}px` }}>
        <div className="bars-box" style={{ height: BAR_H }}>
          {/* The space is kept so the map does not jump when the stage-1 bars appear. */}
          <canvas ref={barRef} style={{ width: M, height: BAR_H, display: overlay >= 2 ? 'block' : 'none' }} role="img" aria-label="Stage 1 column scores by key" />
          {overlay < 2 ? <div className="muted small-text">Stage 1's column scores appear here as bars on the key axis (step 2).</div> : null}
        </div>
        <div className="chart-label">{overlay >= 2 ? 'column scores c_j (sqrt)' : ''}</div>
        <div className="map-box" style={{ width: M, height: M }}>
          <canvas ref={mapRef} className="map zoomable" style={{ width: M, height: M }} role="img" aria-label={`Attention map, ${headName(chosen.layer, chosen.head)}`} onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
          {hover ? (
            <div className="tooltip" style={{ left: Math.min(hover.x + 12, M - 220), top: hover.y + 12 }} data-testid="token-tooltip">
              <div>query {hover.i} {tokenAt(hover.i)}</div>
              <div>key {hover.j} {tokenAt(hover.j)}</div>
              <div className="muted">{hover.j > hover.i ? 'future (masked by causality)' : `P ${detail.planes.maxP.block > 1 ? '(block max) ' : ''}${cellValue(hover.i, hover.j).toExponential(2)} · ${inMask(hover.i, hover.j) ? 'kept' : 'dropped'}`}</div>
            </div>
          ) : null}
        </div>
        <div>
          <canvas ref={recallRef} style={{ width: RECALL_W, height: M }} role="img" aria-label="Recall per row" />
          <div className="chart-label">recall per row R_i</div>
        </div>
      </div>
      {overlay >= 3 ? <CumulativeCurve scores={detail.scores} kept={sel.selectedKeys.length} rows={sel.sampledRows.length} alpha={alpha} width={M + RECALL_W} /> : null}
      <Legend overlay={overlay} />
    </div>
  );
}

function OverlayStepper() {
  const overlay = useStudio((s) => s.overlay);
  return (
    <div className="stepper" role="group" aria-label="Overlays in algorithm order">
      <button onClick={() => setOverlay(overlay - 1)} disabled={overlay === 0}>Previous stage</button>
      {OVERLAYS.map((name, i) => (
        <button key={name} className={`stage${i <= overlay ? ' on' : ''}`} aria-pressed={i <= overlay} onClick={() => setOverlay(i)}>
          {i}. {name}
        </button>
      ))}
      <button onClick={() => setOverlay(overlay + 1)} disabled={overlay === OVERLAYS.length - 1}>Next stage</button>
      <span className="current-stage" data-testid="current-stage">Showing: {OVERLAYS[overlay]}</span>
    </div>
  );
}

function Legend({ overlay }: { overlay: number }) {
  const items: [string, string, number][] = [
    ['attention (max P, gamma 0.4)', 'linear-gradient(90deg,#000004,#bb3754,#fcffa4)', 0],
    ['sampled rows', '#50dcff', 1],
    ['column scores', '#f2b84b', 2],
    ['selected stripes', '#5fd39a', 3],
    ['local window', '#78aaff', 4],
    ['outside the mask (dimmed)', '#30333a', 5],
    ['missed attention mass', '#ff4040', 6],
  ];
  return (
    <div className="legend">
      {items.filter(([, , i]) => i <= overlay).map(([name, c]) => (
        <span key={name}><i style={{ background: c }} />{name}</span>
      ))}
    </div>
  );
}
