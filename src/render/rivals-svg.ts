// Recall-vs-density chart of SampleAttention and its rivals (src/sampleattention/studies/rivals.ts) as a standalone
// SVG string: one line per pattern (points marked), a legend naming each pattern's knob, axes with
// ticks and labels, and SampleAttention's operating point ringed. Both SampleAttention variants
// (`tokens`: 'sampleattention', `blocks`: 'sampleattention-blocks') are drawn thick, on top.
// Pure: no DOM, so the CLI (`sa-studio rivals --svg`) and the studio can both use it.
import { scaleLinear } from 'd3';
import type { PatternName, RivalCurve } from '../sampleattention/studies/rivals';
import { PATTERNS } from './palette';

export interface RivalsSvgOptions {
  width?: number;
  height?: number;
  title?: string;
  subtitle?: string;
  theme?: 'dark' | 'light';
  /** SampleAttention's operating point (its density and mean recall), ringed and labelled. */
  operatingPoint?: { density: number; recall: number; label?: string };
  /** Lowest recall shown; default: the lowest point rounded down to 0.1 (at most 0.9). */
  recallFloor?: number;
  /** Points drawn one per head (small rings) in a pattern's colour: a fixed per-head config
   * (MInference's file) has one point per head and no curve; a variant's operating point per head.
   * With `label`, the legend gets a ring and that text. */
  headPoints?: { pattern: PatternName; points: { density: number; recallMean: number }[]; label?: string }[];
}

const THEMES = {
  dark: { bg: '#15171e', panel: '#1c1f28', grid: '#2e3340', axis: '#8a91a3', text: '#e6e8ee', muted: '#9aa1b2' },
  light: { bg: '#ffffff', panel: '#f8f9fb', grid: '#e3e6ec', axis: '#5c6370', text: '#1d2129', muted: '#5c6370' },
};

const FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', Helvetica, Arial, sans-serif";

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const f2 = (x: number) => (Math.round(x * 100) / 100).toString();

/** The chart as an SVG document. Points with a non-finite density or recall are left out. */
export function rivalsSvg(curves: readonly RivalCurve[], o: RivalsSvgOptions = {}): string {
  const W = o.width ?? 980, H = o.height ?? 600;
  const th = THEMES[o.theme ?? 'dark'];
  const top = o.title ? (o.subtitle ? 74 : 52) : 24;
  const m = { left: 70, right: 290, top, bottom: 62 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const finite = (p: { density: number; recallMean: number }) => Number.isFinite(p.density) && Number.isFinite(p.recallMean);
  const all = [...curves, ...(o.headPoints ?? [])].flatMap((c) => c.points.filter(finite));
  const lowest = Math.min(1, ...all.map((p) => p.recallMean), o.operatingPoint?.recall ?? 1);
  const floor = o.recallFloor ?? Math.min(0.9, Math.max(0, Math.floor(lowest * 10 - 1e-9) / 10));
  const x = scaleLinear().domain([0, 1]).range([m.left, m.left + pw]);
  const y = scaleLinear().domain([floor, 1]).range([m.top + ph, m.top]).clamp(true);
  const out: string[] = [];
  const push = (s: string) => out.push(s);
  push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${escapeXml(FONT)}">`);
  push(`<rect x="0" y="0" width="${W}" height="${H}" fill="${th.bg}"/>`);
  if (o.title) push(`<text x="${m.left}" y="30" font-size="19" font-weight="600" fill="${th.text}">${escapeXml(o.title)}</text>`);
  if (o.title && o.subtitle) push(`<text x="${m.left}" y="52" font-size="13" fill="${th.muted}">${escapeXml(o.subtitle)}</text>`);
  push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="${th.panel}"/>`);
  // Grid and ticks.
  push(`<g font-size="12" fill="${th.muted}">`);
  for (const t of x.ticks(10)) {
    const px = f2(x(t));
    push(`<line x1="${px}" y1="${m.top}" x2="${px}" y2="${m.top + ph}" stroke="${th.grid}" stroke-width="1"/>`);
    push(`<line x1="${px}" y1="${m.top + ph}" x2="${px}" y2="${m.top + ph + 5}" stroke="${th.axis}"/>`);
    push(`<text x="${px}" y="${m.top + ph + 20}" text-anchor="middle">${t.toFixed(1)}</text>`);
  }
  const yTicks = y.ticks(Math.min(10, Math.max(4, Math.round((1 - floor) / 0.05))));
  const yDigits = yTicks.some((t) => Math.abs(t * 10 - Math.round(t * 10)) > 1e-9) ? 2 : 1;
  for (const t of yTicks) {
    const py = f2(y(t));
    push(`<line x1="${m.left}" y1="${py}" x2="${m.left + pw}" y2="${py}" stroke="${th.grid}" stroke-width="1"/>`);
    push(`<line x1="${m.left - 5}" y1="${py}" x2="${m.left}" y2="${py}" stroke="${th.axis}"/>`);
    push(`<text x="${m.left - 9}" y="${py}" dy="0.32em" text-anchor="end">${t.toFixed(yDigits)}</text>`);
  }
  push('</g>');
  push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="${th.axis}" stroke-width="1.2"/>`);
  push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="${th.axis}" stroke-width="1.2"/>`);
  push(`<text x="${f2(m.left + pw / 2)}" y="${H - 16}" text-anchor="middle" font-size="14" fill="${th.text}">density (kept share of the causal map)</text>`);
  push(`<text transform="translate(20 ${f2(m.top + ph / 2)}) rotate(-90)" text-anchor="middle" font-size="14" fill="${th.text}">mean row recall</text>`);
  // Curves: the oracle first (underneath), SampleAttention's variants last (on top), tokens topmost.
  const rank = (p: PatternName) => (p === 'oracle' ? 0 : p === 'sampleattention' ? 3 : p === 'sampleattention-blocks' ? 2 : 1);
  const thick = (p: PatternName) => p === 'sampleattention' || p === 'sampleattention-blocks';
  const drawn = [...curves].sort((a, b) => rank(a.pattern) - rank(b.pattern));
  push(`<defs><clipPath id="plot"><rect x="${m.left - 6}" y="${m.top - 6}" width="${pw + 12}" height="${ph + 12}"/></clipPath></defs>`);
  push(`<g clip-path="url(#plot)">`);
  for (const c of drawn) {
    const col = (PATTERNS[c.pattern] ?? PATTERNS.oracle)[o.theme ?? 'dark'];
    const pts = c.points.filter(finite).sort((a, b) => a.density - b.density || a.recallMean - b.recallMean);
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${f2(x(p.density))},${f2(y(p.recallMean))}`).join(' ');
    const sa = thick(c.pattern);
    // A single point (a fixed config's mean) is a marker, not a line.
    if (pts.length === 1) {
      push(`<rect class="fixed-point" data-pattern="${escapeXml(c.pattern)}" x="${f2(x(pts[0].density) - 5)}" y="${f2(y(pts[0].recallMean) - 5)}" width="10" height="10" fill="${col}" stroke="${th.panel}" stroke-width="1.5"/>`);
      continue;
    }
    const dash = PATTERNS[c.pattern]?.dash ? ` stroke-dasharray="${PATTERNS[c.pattern].dash}"` : '';
    push(`<path class="curve" data-pattern="${escapeXml(c.pattern)}" d="${d}" fill="none" stroke="${col}" stroke-width="${sa ? 3 : 2}" stroke-linejoin="round" stroke-linecap="round"${dash}/>`);
    push(`<g fill="${col}">${pts.map((p) => `<circle cx="${f2(x(p.density))}" cy="${f2(y(p.recallMean))}" r="${sa ? 3.6 : 2.8}"/>`).join('')}</g>`);
  }
  for (const hp of o.headPoints ?? []) {
    const col = (PATTERNS[hp.pattern] ?? PATTERNS.oracle)[o.theme ?? 'dark'];
    const pts = hp.points.filter(finite);
    push(`<g class="head-points" data-pattern="${escapeXml(hp.pattern)}" fill="none" stroke="${col}" stroke-width="1.2" opacity="0.8">${pts.map((p) => `<circle cx="${f2(x(p.density))}" cy="${f2(y(p.recallMean))}" r="2.6"/>`).join('')}</g>`);
  }
  push('</g>');
  const op = o.operatingPoint;
  if (op && Number.isFinite(op.density) && Number.isFinite(op.recall)) {
    const px = x(op.density), py = y(op.recall);
    const col = PATTERNS.sampleattention[o.theme ?? 'dark'];
    push(`<line x1="${f2(px)}" y1="${f2(py)}" x2="${f2(px)}" y2="${m.top + ph}" stroke="${col}" stroke-width="1" stroke-dasharray="3 3" opacity="0.7"/>`);
    push(`<circle class="operating-point" cx="${f2(px)}" cy="${f2(py)}" r="8" fill="none" stroke="${col}" stroke-width="2.2"/>`);
    const label = op.label ?? `operating point: density ${op.density.toFixed(3)}, recall ${op.recall.toFixed(3)}`;
    // At the foot of the drop line, where recall-vs-density curves (concave, rising to the top
    // right) leave the plot empty; on the side of the line with more room.
    const right = px < m.left + pw / 2;
    push(`<text x="${f2(right ? px + 8 : px - 8)}" y="${f2(m.top + ph - 12)}" text-anchor="${right ? 'start' : 'end'}" font-size="12.5" font-weight="600" fill="${col}" paint-order="stroke" stroke="${th.panel}" stroke-width="4">${escapeXml(label)}</text>`);
  }
  // Legend on the right.
  const lx = m.left + pw + 22;
  let ly = m.top + 8;
  push(`<g font-size="13">`);
  for (const c of curves) {
    const col = (PATTERNS[c.pattern] ?? PATTERNS.oracle)[o.theme ?? 'dark'];
    const dash = PATTERNS[c.pattern]?.dash ? ` stroke-dasharray="${PATTERNS[c.pattern].dash}"` : '';
    push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${col}" stroke-width="${thick(c.pattern) ? 3 : 2}"${dash}/>`);
    push(`<circle cx="${lx + 13}" cy="${ly}" r="3" fill="${col}"/>`);
    push(`<text class="legend" x="${lx + 34}" y="${ly}" dy="0.32em" fill="${th.text}">${escapeXml(PATTERNS[c.pattern]?.label ?? c.pattern)}</text>`);
    push(`<text x="${lx + 34}" y="${ly + 17}" dy="0.32em" font-size="11.5" fill="${th.muted}">knob: ${escapeXml(c.knob)}</text>`);
    ly += 44;
  }
  for (const hp of o.headPoints ?? []) {
    if (!hp.label) continue;
    const col = (PATTERNS[hp.pattern] ?? PATTERNS.oracle)[o.theme ?? 'dark'];
    push(`<circle cx="${lx + 13}" cy="${ly}" r="3.5" fill="none" stroke="${col}" stroke-width="1.4"/>`);
    push(`<text class="legend-points" x="${lx + 34}" y="${ly}" dy="0.32em" font-size="12" fill="${th.text}">${escapeXml(hp.label)}</text>`);
    ly += 26;
  }
  if (op) {
    const col = PATTERNS.sampleattention[o.theme ?? 'dark'];
    push(`<circle cx="${lx + 13}" cy="${ly}" r="7" fill="none" stroke="${col}" stroke-width="2"/>`);
    push(`<text x="${lx + 34}" y="${ly}" dy="0.32em" fill="${th.text}">SampleAttention's</text>`);
    push(`<text x="${lx + 34}" y="${ly + 17}" dy="0.32em" fill="${th.text}">operating point</text>`);
  }
  push('</g>');
  push('</svg>');
  return out.join('\n') + '\n';
}
