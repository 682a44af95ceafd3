// Live tuning: the variant (tokens | blocks) and one set of real range inputs of its parameters
// (tokens: "Alpha", "Row ratio", "Window ratio"; blocks: a block size select, "Alpha column",
// "Alpha slash", "Row ratio"). They set every head, or, with "This head" chosen, the chosen head's
// override (marked, resettable). Every change recomputes on the GPU; the time to the redraw is shown.
import { useState } from 'react';
import { headName, useStudio } from '../../state/store';
import { resetOverride, setParam, setVariant, type ParamName } from '../../state/params';
import { hasOverride, paramsFor } from '../../state/selectors';
import { BLOCK_SIZES } from '../../state/settings';
import { VARIANTS, type Variant } from '../../sampleattention/spec/setting';

type SliderDef = { name: ParamName; label: string; min: number; max: number; step: number; digits: number };
const ROW_RATIO: SliderDef = { name: 'rowRatio', label: 'Row ratio', min: 0.005, max: 0.5, step: 0.005, digits: 3 };
const SLIDERS: Record<Variant, SliderDef[]> = {
  tokens: [
    { name: 'alpha', label: 'Alpha', min: 0.5, max: 1, step: 0.001, digits: 3 },
    ROW_RATIO,
    { name: 'windowRatio', label: 'Window ratio', min: 0, max: 0.5, step: 0.005, digits: 3 },
  ],
  blocks: [
    { name: 'alphaColumn', label: 'Alpha column', min: 0.5, max: 1, step: 0.001, digits: 3 },
    { name: 'alphaSlash', label: 'Alpha slash', min: 0.5, max: 1, step: 0.001, digits: 3 },
    ROW_RATIO,
  ],
};

export function Sliders() {
  const [scope, setScope] = useState<'all' | 'head'>('all');
  const s = useStudio();
  const chosen = s.chosen;
  const headScope = scope === 'head' && !!chosen;
  const values = headScope ? paramsFor(s, chosen.layer, chosen.head) : s.defaults;
  const overridden = chosen ? hasOverride(s, chosen.layer, chosen.head) : false;
  const own = chosen ? s.overrides[`${chosen.layer}:${chosen.head}`] ?? {} : {};
  const disabled = !s.prefill || s.busy;
  const scopeName = headScope ? 'head' : 'all';
  const field = (name: ParamName) => (values as unknown as Record<string, number>)[name];
  const badge = (name: ParamName | 'variant') => (headScope && (own as Record<string, unknown>)[name] !== undefined ? <span className="badge">override</span> : null);
  const S = s.prefill?.S ?? Infinity;
  return (
    <section className={`panel sliders${headScope ? ' override' : ''}`} aria-label="Parameters">
      <h2>Parameters</h2>
      <div className="scope" role="radiogroup" aria-label="Apply to">
        <label><input type="radio" name="scope" checked={!headScope} onChange={() => setScope('all')} /> All heads</label>
        <label><input type="radio" name="scope" checked={headScope} disabled={!chosen} onChange={() => setScope('head')} /> This head{chosen ? ` (${headName(chosen.layer, chosen.head)})` : ''}</label>
      </div>
      {headScope ? <div className="override-note">Override for {headName(chosen.layer, chosen.head)}{overridden ? '' : ' (none yet: showing the defaults)'}</div> : null}
      <div className="variant" role="radiogroup" aria-label="Variant">
        <span>Variant{badge('variant')}</span>
        {VARIANTS.map((v) => (
          <label key={v}><input type="radio" name="variant" data-testid={`variant-${v}`} checked={values.variant === v} disabled={disabled} onChange={() => setVariant(scopeName, v)} /> {v}</label>
        ))}
      </div>
      {values.variant === 'blocks' ? (
        <div className="slider">
          <label htmlFor="slider-blockSize">Block size{badge('blockSize')}</label>
          <select id="slider-blockSize" aria-label="Block size" value={values.blockSize} disabled={disabled} onChange={(e) => setParam(scopeName, 'blockSize', Number(e.target.value))}>
            {/* Blocks longer than the text are one block: no choice to offer. */}
            {BLOCK_SIZES.filter((b) => b <= Math.max(S, BLOCK_SIZES[0]) || b === values.blockSize).map((b) => <option key={b} value={b}>{b}</option>)}
          </select>
          <output htmlFor="slider-blockSize" data-testid="value-blockSize">{values.blockSize}</output>
        </div>
      ) : null}
      {SLIDERS[values.variant].map((d) => {
        const v = field(d.name);
        return (
          <div className="slider" key={d.name}>
            <label htmlFor={`slider-${d.name}`}>{d.label}{badge(d.name)}</label>
            <input
              id={`slider-${d.name}`}
              type="range"
              aria-label={d.label}
              min={d.min}
              max={d.max}
              step={d.step}
              value={v}
              disabled={disabled}
              onChange={(e) => setParam(scopeName, d.name, Number(e.target.value))}
            />
            <output htmlFor={`slider-${d.name}`} data-testid={`value-${d.name}`}>{v.toFixed(d.digits)}</output>
          </div>
        );
      })}
      {chosen && overridden ? (
        <button onClick={resetOverride}>Reset {headName(chosen.layer, chosen.head)} to defaults</button>
      ) : null}
      <Timing />
    </section>
  );
}

function Timing() {
  const t = useStudio((s) => s.timing);
  if (!t) return <div className="muted small-text">Move a slider: selection and measures are recomputed on the GPU.</div>;
  return (
    <div className="small-text" data-testid="recompute-time">
      Recomputed the chosen layer ({t.heads} heads) and redrew in <strong>{t.layerMs.toFixed(0)} ms</strong>
      {t.modelMs !== null ? <>; whole model in {t.modelMs.toFixed(0)} ms</> : `; other layers in progress: ${t.othersDone} of ${t.others} done...`}
    </div>
  );
}
