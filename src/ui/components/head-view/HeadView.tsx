// The chosen head (d3): its attention map with zoom and pan (d3-zoom) down to single tokens,
// token labels on hover, and SampleAttention's stages as overlays switched on one by one in the
// algorithm's order. Beside the map: per-row recall along the sequence (same vertical zoom);
// above it: stage-1 column scores as bars on the key axis (same horizontal zoom).
import { useEffect, useMemo, useRef, useState } from 'react';
import { select, zoom as d3zoom, zoomIdentity, type ZoomTransform } from 'd3';
import { headName, useStudio } from '../../../state/store';
import { headViewport } from '../../../state/head';
import type { HeadDetail, HeadPlanes, MapViewport } from '../../../engine/types';
import { chosenSelection, paramsFor } from '../../../state/selectors';
import { inMask, keySetOf } from '../../../sampleattention/spec/mask';
import { blocksMask, blocksPredicate } from '../../../sampleattention/spec/blocks/mask';
import type { HeadResult } from '../../../sampleattention/spec/setting';
import { CumulativeCurve } from '../CumulativeCurve';
import { Legend, OverlayStepper } from './OverlayControls';
import { BAR_H, RECALL_W, covers, overlayParts, paintMap, paintRecall, paintScoreBars, paintStripBars, planeAt, planeImages, sizedContext, visibleRange } from './painters';

/** Whether (i, j) is in the head's mask, by the variant's own rule (spec/mask.ts, blocks/mask.ts). */
function maskTest(sel: HeadResult, S: number): (i: number, j: number) => boolean {
  if (sel.variant === 'tokens') {
    const keySet = keySetOf(sel.selectedKeys, S);
    return (i, j) => inMask(i, j, sel.window, keySet);
  }
  return blocksPredicate(blocksMask(S, sel.blockSize, sel.columnBlocks, sel.slashBands));
}

/** The zoomed view's planes are asked for this long after the zoom or pan settles (latest wins).
 * A new whole-map detail over a still viewport (a slider move) asks at once: the request then
 * reaches the engine before the recompute (state/params.ts, which waits a frame after the chosen
 * layer) queues the other layers, so the zoomed view returns after the chosen layer, not after the
 * whole model. */
const VIEWPORT_DEBOUNCE_MS = 120;

export function HeadView({ size }: { size: number }) {
  const detail = useStudio((s) => s.detail);
  const prefill = useStudio((s) => s.prefill);
  const overlay = useStudio((s) => s.overlay);
  const sel = useStudio(chosenSelection);
  const chosen = useStudio((s) => s.chosen);
  // paramsFor builds a new object: computed from the store's own (stable) fields, not in a selector.
  const defaults = useStudio((s) => s.defaults);
  const overrides = useStudio((s) => s.overrides);
  const setting = useMemo(() => (chosen ? paramsFor({ defaults, overrides }, chosen.layer, chosen.head) : defaults), [defaults, overrides, chosen]);

  const mapRef = useRef<HTMLCanvasElement>(null);
  const barRef = useRef<HTMLCanvasElement>(null);
  const slashRef = useRef<HTMLCanvasElement>(null);
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
  const lastAsked = useRef('');
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
    const key = `${chosen.layer}:${chosen.head}:${side}:${v.r0}:${v.r1}:${v.c0}:${v.c1}`;
    const still = key === lastAsked.current;
    lastAsked.current = key;
    const ask = () => void headViewport(chosen.layer, chosen.head, side, v).then((d) => {
      if (gen !== reqGen.current) return;
      setRefining(false);
      if (d) setZoomed({ detail: d, base: detail });
    });
    // Asked in the effect itself, which React runs before the recompute's next frame.
    if (still) return ask();
    const timer = setTimeout(ask, VIEWPORT_DEBOUNCE_MS);
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
    // The drawn cell under the pointer: from the zoomed planes when they hold it.
    const src = hover && (zoom && covers(zoom.viewport, { r0: hover.i, r1: hover.i + 1, c0: hover.j, c1: hover.j + 1 }) ? zoom : detail);
    const hoverCell = hover && src ? planeAt(src, 'maxP', hover.i, hover.j) : null;
    paintMap(sizedContext(canvas, M, M), { M, S, px, t, overlay, sel, images, zoomImages, hoverCell });
  }, [images, zoomImages, zoom, detail, sel, overlay, t, M, S, px, hover]);

  // Stage-1 column scores as bars on the key axis.
  useEffect(() => {
    const canvas = barRef.current;
    if (!canvas || !detail || !sel) return;
    if (sel.variant === 'tokens') return paintScoreBars(sizedContext(canvas, M, BAR_H), detail.scores, sel.selectedKeys, M, px, t, overlay);
    if (!detail.strips || setting.variant !== 'blocks') return;
    // C_J, one bar per key block on the key axis (same horizontal zoom).
    const b = sel.blockSize;
    paintStripBars(sizedContext(canvas, M, BAR_H), detail.strips.column, sel.columnBlocks, M, BAR_H, (J) => t.x + t.k * J * b * px, t.k * b * px, overlay,
      { name: 'alphaColumn', alpha: setting.alphaColumn, reached: sel.stage1ColumnEstimate });
  }, [detail, sel, setting, t, M, px, overlay]);

  // A blocks head's D_o, one bar per slash band, band o at distance o*b from the diagonal (not zoomed).
  useEffect(() => {
    const canvas = slashRef.current;
    if (!canvas || !detail?.strips || !sel || sel.variant !== 'blocks' || setting.variant !== 'blocks') return;
    const b = sel.blockSize;
    paintStripBars(sizedContext(canvas, M, BAR_H), detail.strips.slash, sel.slashBands, M, BAR_H, (o) => o * b * px, b * px, overlay,
      { name: 'alphaSlash', alpha: setting.alphaSlash, reached: sel.stage1SlashEstimate });
  }, [detail, sel, setting, M, px, overlay]);

  // Per-row recall along the sequence, aligned with the map's rows.
  useEffect(() => {
    const canvas = recallRef.current;
    if (!canvas || !detail) return;
    paintRecall(sizedContext(canvas, RECALL_W, M), detail.recall, M, px, t);
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
  const kept = maskTest(sel, S);
  const parts = overlayParts(overlay);
  const blocks = sel.variant === 'blocks';

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
      <OverlayStepper blocks={blocks} />
      <div className="head-grid" style={{ gridTemplateColumns: `${M}px ${RECALL_W}px` }}>
        <div className="bars-box" style={{ height: BAR_H }}>
          {/* The space is kept so the map does not jump when the stage-1 bars appear. */}
          <canvas ref={barRef} style={{ width: M, height: BAR_H, display: parts.scoreBars ? 'block' : 'none' }} role="img" aria-label="Stage 1 column scores by key" />
          {!parts.scoreBars ? <div className="muted small-text">Stage 1's column scores appear here as bars on the key axis (step 2).</div> : null}
        </div>
        <div className="chart-label">{parts.scoreBars ? (blocks ? `column-block scores C_J (sqrt), blocks of ${sel.blockSize}` : 'column scores c_j (sqrt)') : ''}</div>
        <div className="map-box" style={{ width: M, height: M }}>
          <canvas ref={mapRef} className="map zoomable" style={{ width: M, height: M }} role="img" aria-label={`Attention map, ${headName(chosen.layer, chosen.head)}`} data-transform={`${t.x} ${t.y} ${t.k}`} data-resolution={shownBlock} onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
          {hover ? (
            <div className="tooltip" style={{ left: Math.min(hover.x + 12, M - 220), top: hover.y + 12 > M - 64 ? Math.max(0, hover.y - 64) : hover.y + 12 }} data-testid="token-tooltip">
              <div>query {hover.i} {tokenAt(hover.i)}</div>
              <div>key {hover.j} {tokenAt(hover.j)}</div>
              <div className="muted">{hover.j > hover.i ? 'future (masked by causality)' : (() => {
                const c = cellAt(hover.i, hover.j);
                return `${c.block > 1 ? `max P over ${c.block} x ${c.block} tokens` : 'P'} ${c.value.toExponential(2)} · ${kept(hover.i, hover.j) ? 'kept' : 'dropped'}`;
              })()}</div>
            </div>
          ) : null}
        </div>
        <div>
          <canvas ref={recallRef} style={{ width: RECALL_W, height: M }} role="img" aria-label="Recall per row" />
          <div className="chart-label">recall per row R_i</div>
        </div>
      </div>
      {blocks && parts.scoreBars ? (
        <div className="head-grid" style={{ gridTemplateColumns: `${M}px ${RECALL_W}px` }}>
          <canvas ref={slashRef} style={{ width: M, height: BAR_H }} role="img" aria-label="Stage 1 slash-band scores by band" />
          <div className="chart-label">slash-band scores D_o (sqrt), band o at distance o*{sel.blockSize} from the diagonal</div>
        </div>
      ) : null}
      {parts.kept && sel.variant === 'tokens' && setting.variant === 'tokens' ? <CumulativeCurve scores={detail.scores} kept={sel.selectedKeys.length} rows={sel.sampledRows.length} alpha={setting.alpha} width={M + RECALL_W} /> : null}
      <Legend overlay={overlay} blocks={blocks} />
    </div>
  );
}
