// The chosen head (d3): its attention map with zoom and pan (d3-zoom) down to single tokens,
// token labels on hover, and SampleAttention's stages as overlays switched on one by one in the
// algorithm's order. Beside the map: per-row recall along the sequence (same vertical zoom);
// above it: stage-1 column scores as bars on the key axis (same horizontal zoom).
import { useEffect, useMemo, useRef, useState } from 'react';
import { select, zoom as d3zoom, zoomIdentity, type ZoomTransform } from 'd3';
import { OVERLAYS, headName, useStudio } from '../../state/store';
import { headViewport, setOverlay } from '../../state/head';
import type { HeadDetail, HeadPlanes, MapViewport, PoolPlane, PooledMap } from '../../engine/types';
import { chosenSelection, paramsFor } from '../../state/selectors';
import { gridCanvas, tintCanvas } from './colors';
import { CumulativeCurve } from './CumulativeCurve';

const BAR_H = 64;
const RECALL_W = 120;
/** The zoomed view's planes are asked for this long after the zoom or pan settles (latest wins). */
const VIEWPORT_DEBOUNCE_MS = 120;

/** Token rows [r0, r1) and keys [c0, c1) that the transform shows on an M x M canvas. */
function visibleRange(t: ZoomTransform, M: number, px: number, S: number): MapViewport {
  const tok = (screen: number, shift: number) => (screen - shift) / (t.k * px);
  const clip = (v: number) => Math.max(0, Math.min(S, v));
  return {
    r0: clip(Math.floor(tok(0, t.y))), r1: clip(Math.ceil(tok(M, t.y) - 1e-9)),
    c0: clip(Math.floor(tok(0, t.x))), c1: clip(Math.ceil(tok(M, t.x) - 1e-9)),
  };
}

const covers = (outer: MapViewport, inner: MapViewport) => outer.r0 <= inner.r0 && outer.r1 >= inner.r1 && outer.c0 <= inner.c0 && outer.c1 >= inner.c1;

/** Where cell (i, j) of the drawn map is read from: the zoomed viewport's planes when they hold it. */
function planeAt(d: HeadPlanes, plane: PoolPlane, i: number, j: number): { value: number; block: number; i0: number; j0: number } {
  const p: PooledMap = d.planes[plane];
  const a = Math.floor((i - d.viewport.r0) / p.block), b = Math.floor((j - d.viewport.c0) / p.block);
  return { value: p.values[a * p.cols + b], block: p.block, i0: d.viewport.r0 + a * p.block, j0: d.viewport.c0 + b * p.block };
}

/** Pre-rendered planes: one pixel per pooled cell, drawn scaled under the zoom transform. */
function planeImages(d: HeadPlanes, maxP: number) {
  const p = d.planes;
  const missedMax = p.missedMass.values.reduce((a, v) => (v > a ? v : a), 0);
  const v = d.viewport;
  return {
    attention: gridCanvas(p.maxP.values, p.maxP.rows, p.maxP.cols, { max: maxP }),
    outside: tintCanvas(p.keptFraction.values, p.keptFraction.rows, p.keptFraction.cols, [12, 14, 20], (x) => (x > 0 ? 0.55 * (1 - x) : 0.82)),
    missed: tintCanvas(p.missedMass.values, p.missedMass.rows, p.missedMass.cols, [255, 64, 64], (x) => (missedMax > 0 ? Math.pow(x / missedMax, 0.5) : 0)),
    block: p.maxP.block,
    // The token rectangle the grid covers (its last cells may reach past the viewport; never past S).
    r0: v.r0, c0: v.c0, rowsSpan: p.maxP.rows * p.maxP.block, colsSpan: p.maxP.cols * p.maxP.block,
    viewport: v,
  };
}

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
  // The zoomed viewport's planes, valid while `base` is the current whole-map detail.
  const [zoomed, setZoomed] = useState<{ detail: HeadPlanes; base: HeadDetail } | null>(null);
  const [refining, setRefining] = useState(false);
  const S = prefill?.S ?? 1;
  const M = size;
  const px = M / S; // CSS pixels per token at zoom 1
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;

  // The whole map's global max P (max pooling keeps it), so zoomed views share its colour scale.
  const maxP = useMemo(() => (detail ? detail.planes.maxP.values.reduce((a, v) => (v > a ? v : a), 0) : 0), [detail]);
  const images = useMemo(() => (detail ? planeImages(detail, maxP) : null), [detail, maxP]);
  const zoom = zoomed && zoomed.base === detail ? zoomed.detail : null;
  const zoomImages = useMemo(() => (zoom ? planeImages(zoom, maxP) : null), [zoom, maxP]);
  const visible = useMemo(() => visibleRange(t, M, px, S), [t, M, px, S]);
  // What the visible part of the map is drawn from: the zoomed planes once they cover it.
  const shown = zoom && covers(zoom.viewport, visible) ? zoom : detail;
  const shownBlock = shown?.planes.maxP.block ?? 1;

  // Zoomed in on a block-pooled map: ask for the visible viewport at the canvas's resolution once
  // the zoom settles (debounced, latest wins) and draw it over the pooled whole map.
  const reqGen = useRef(0);
  useEffect(() => {
    const gen = ++reqGen.current;
    setRefining(false);
    if (!detail || !chosen || detail.planes.maxP.block <= 1) return;
    const side = Math.max(1, Math.floor(M * dpr));
    const nr = visible.r1 - visible.r0, nc = visible.c1 - visible.c0;
    if (nr <= 0 || nc <= 0 || (nr >= S && nc >= S)) return; // not zoomed in
    const block = Math.ceil(Math.max(nr, nc) / side);
    if (block >= detail.planes.maxP.block) return; // the whole-map grid already resolves this much
    // Rows and keys in whole cells (clipped to S), so every drawn cell holds block x block tokens.
    const v: MapViewport = {
      r0: visible.r0, r1: Math.min(S, visible.r0 + Math.ceil(nr / block) * block),
      c0: visible.c0, c1: Math.min(S, visible.c0 + Math.ceil(nc / block) * block),
    };
    if (zoom && zoom.planes.maxP.block === block && covers(zoom.viewport, visible)) return;
    setRefining(true);
    const timer = setTimeout(() => {
      void headViewport(chosen.layer, chosen.head, side, v).then((d) => {
        if (gen !== reqGen.current) return;
        setRefining(false);
        if (d) setZoomed({ detail: d, base: detail });
      });
    }, VIEWPORT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // `zoom` is read, not a trigger: its arrival must not ask again.
  }, [detail, visible, M, S, dpr, chosen?.layer, chosen?.head]);

  // Zoom and pan on the map; the same transform drives the bars (x) and the recall chart (y).
  // Attached whenever the map canvas (re)appears: it is absent until the first detail arrives.
  const hasMap = !!(detail && sel && prefill && chosen);
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
  }, [S, M, hasMap]);

  useEffect(() => {
    setT(zoomIdentity);
    setZoomed(null);
  }, [chosen?.layer, chosen?.head, S, hasMap]);

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
    type Images = NonNullable<typeof images>;
    // Each plane: the pooled whole map, with the zoomed viewport's planes drawn over their own
    // token rectangle (the whole map's translucent planes are clipped out there, not doubled).
    // Everything is clipped to the S x S map: a grid's last cells may hold fewer tokens than block.
    g.beginPath();
    g.rect(0, 0, S * px, S * px);
    g.clip();
    const layer = (pick: (im: Images) => HTMLCanvasElement, opaque: boolean) => {
      const z = zoomImages;
      g.save();
      if (z && !opaque) {
        g.beginPath();
        g.rect(0, 0, S * px, S * px);
        g.rect(z.c0 * px, z.r0 * px, z.colsSpan * px, z.rowsSpan * px);
        g.clip('evenodd');
      }
      g.drawImage(pick(images), images.c0 * px, images.r0 * px, images.colsSpan * px, images.rowsSpan * px);
      g.restore();
      if (z) g.drawImage(pick(z), z.c0 * px, z.r0 * px, z.colsSpan * px, z.rowsSpan * px);
    };
    layer((im) => im.attention, true);
    const hair = 1 / t.k;
    if (overlay >= 5) layer((im) => im.outside, false);
    if (overlay >= 6) layer((im) => im.missed, false);
    // Overlays are drawn in token coordinates, cell-aligned, for the visible rows only.
    const v = visibleRange(t, M, px, S);
    if (overlay >= 3 && overlay < 5) {
      // Stage 2: the kept key columns, from their own row down (causal).
      g.fillStyle = 'rgba(95, 211, 154, 0.33)';
      for (const j of sel.selectedKeys) if (j >= v.c0 && j < v.c1) g.fillRect(j * px, j * px, Math.max(px, hair), S * px - j * px);
    }
    if (overlay >= 4 && overlay < 5) {
      // The local window: keys i - w + 1 .. i of every row i (at least the diagonal), as whole
      // cells, so it lines up with the exact map when zoomed to single tokens.
      const w = Math.max(1, sel.window);
      g.fillStyle = 'rgba(120, 170, 255, 0.30)';
      g.beginPath();
      for (let i = v.r0; i < v.r1; i++) {
        const j0 = Math.max(0, i - w + 1);
        g.rect(j0 * px, i * px, (i + 1 - j0) * px, px);
      }
      g.fill();
    }
    if (overlay >= 1 && overlay < 5) {
      // Stage 1: the sampled query rows.
      g.strokeStyle = 'rgba(80, 220, 255, 0.9)';
      g.lineWidth = Math.max(hair, Math.min(px, 2 * hair));
      for (const i of sel.sampledRows) {
        if (i < v.r0 || i >= v.r1) continue;
        g.beginPath();
        g.moveTo(0, (i + 0.5) * px);
        g.lineTo((i + 1) * px, (i + 0.5) * px);
        g.stroke();
      }
    }
    if (hover) {
      // The drawn cell under the pointer: one token when exact, a block when pooled.
      const src = zoom && covers(zoom.viewport, { r0: hover.i, r1: hover.i + 1, c0: hover.j, c1: hover.j + 1 }) ? zoom : detail!;
      const cell = planeAt(src, 'maxP', hover.i, hover.j);
      g.strokeStyle = '#fff';
      g.lineWidth = 1.5 * hair;
      g.strokeRect(cell.j0 * px, cell.i0 * px, Math.min(cell.block, S - cell.j0) * px, Math.min(cell.block, S - cell.i0) * px);
    }
    g.restore();
  }, [images, zoomImages, zoom, detail, sel, overlay, t, M, S, px, hover]);

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
  const cellAt = (i: number, j: number) => planeAt(zoom && covers(zoom.viewport, { r0: i, r1: i + 1, c0: j, c1: j + 1 }) ? zoom : detail, 'maxP', i, j);
  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    // Relative to the drawing area, inside the canvas's CSS border.
    const r = e.currentTarget.getBoundingClientRect();
    const [x, y] = t.invert([e.clientX - r.left - e.currentTarget.clientLeft, e.clientY - r.top - e.currentTarget.clientTop]);
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
        <span className="muted"> {S} tokens · zoom {t.k.toFixed(1)}x </span>
        <button className="small" onClick={() => { if (mapRef.current) select(mapRef.current).call(d3zoom<HTMLCanvasElement, unknown>().transform, zoomIdentity); setT(zoomIdentity); }}>Reset zoom</button>
        {/* One line of its own, so the map does not move when the text changes while zooming. */}
        <div className="map-resolution-line">
          <span className={shownBlock === 1 ? 'resolution exact' : 'resolution'} data-testid="map-resolution">{shownBlock === 1 ? 'exact: 1 token per cell' : `pooled: max over ${shownBlock} x ${shownBlock} tokens${refining ? ' (refining...)' : images && images.block > 1 && t.k === 1 ? ', zoom in for exact' : ''}`}</span>
          <span className="muted" data-testid="visible-range"> · queries {visible.r0}..{visible.r1 - 1}, keys {visible.c0}..{visible.c1 - 1}</span>
        </div>
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
          <canvas ref={mapRef} className="map zoomable" style={{ width: M, height: M }} role="img" aria-label={`Attention map, ${headName(chosen.layer, chosen.head)}`} data-transform={`${t.x} ${t.y} ${t.k}`} data-resolution={shownBlock} onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
          {hover ? (
            <div className="tooltip" style={{ left: Math.min(hover.x + 12, M - 220), top: hover.y + 12 > M - 64 ? Math.max(0, hover.y - 64) : hover.y + 12 }} data-testid="token-tooltip">
              <div>query {hover.i} {tokenAt(hover.i)}</div>
              <div>key {hover.j} {tokenAt(hover.j)}</div>
              <div className="muted">{hover.j > hover.i ? 'future (masked by causality)' : (() => {
                const c = cellAt(hover.i, hover.j);
                return `${c.block > 1 ? `max P over ${c.block} x ${c.block} tokens` : 'P'} ${c.value.toExponential(2)} · ${inMask(hover.i, hover.j) ? 'kept' : 'dropped'}`;
              })()}</div>
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
