// The overview: every layer x head as a small pooled attention map, framed by its recall colour
// and with a bar of its density, under the current parameters. Each cell picks its head.
import { useStudio, headName } from '../../state/store';
import { chooseHead } from '../../state/head';
import { hasOverride } from '../../state/selectors';
import { HeatCanvas } from './HeatCanvas';
import { recallColor } from './colors';

export function Overview({ width }: { width: number }) {
  const layers = useStudio((s) => s.layers);
  const model = useStudio((s) => s.model);
  const chosen = useStudio((s) => s.chosen);
  const overrides = useStudio((s) => s.overrides);
  if (!model) return null;
  const heads = model.config.numHeads;
  const L = model.config.numLayers;
  const cell = Math.max(18, Math.min(56, Math.floor((width - 40) / heads) - 4));
  return (
    <div className="overview" role="grid" aria-label="Every layer and head" style={{ gridTemplateColumns: `28px repeat(${heads}, ${cell}px)` }}>
      <div />
      {Array.from({ length: heads }, (_, h) => (
        <div key={h} className="axis" role="columnheader">h{h}</div>
      ))}
      {Array.from({ length: L }, (_, l) => [
        <div key={`l${l}`} className="axis" role="rowheader">L{l}</div>,
        ...Array.from({ length: heads }, (_, h) => {
          const sel = layers[l]?.heads[h];
          const thumb = layers[l]?.thumbs[h];
          const isChosen = chosen?.layer === l && chosen?.head === h;
          const over = hasOverride({ overrides }, l, h);
          return (
            <button
              key={`${l}:${h}`}
              className={`cell${isChosen ? ' chosen' : ''}`}
              aria-label={headName(l, h)}
              aria-pressed={isChosen}
              title={sel ? `${headName(l, h)}: recall ${sel.recallMean.toFixed(3)}, density ${(100 * sel.density).toFixed(1)}%${over ? ' (override)' : ''}` : headName(l, h)}
              style={{ width: cell, height: cell, borderColor: sel ? recallColor(sel.recallMean) : undefined }}
              onClick={() => void chooseHead(l, h)}
            >
              {thumb ? <HeatCanvas values={thumb.values} rows={thumb.rows} cols={thumb.cols} size={cell - 6} /> : <span className="pending" />}
              {sel ? <span className="density" style={{ width: `${Math.max(2, 100 * sel.density)}%` }} /> : null}
              {over ? <span className="over-dot" aria-hidden /> : null}
            </button>
          );
        }),
      ])}
    </div>
  );
}
