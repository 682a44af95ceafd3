// Live tuning: one set of real range inputs ("Alpha", "Row ratio", "Window ratio"). They set the
// parameters of every head, or, with "This head" chosen, the chosen head's override (marked,
// resettable). Every change recomputes on the GPU; the time to the redraw is shown.
import { useState } from 'react';
import { headName, useStudio } from '../../state/store';
import { resetOverride, setParam, type ParamName } from '../../state/params';
import { hasOverride, paramsFor } from '../../state/selectors';

const SLIDERS: { name: ParamName; label: string; min: number; max: number; step: number; digits: number }[] = [
  { name: 'alpha', label: 'Alpha', min: 0.5, max: 1, step: 0.001, digits: 3 },
  { name: 'rowRatio', label: 'Row ratio', min: 0.005, max: 0.5, step: 0.005, digits: 3 },
  { name: 'windowRatio', label: 'Window ratio', min: 0, max: 0.5, step: 0.005, digits: 3 },
];

export function Sliders() {
  const [scope, setScope] = useState<'all' | 'head'>('all');
  const s = useStudio();
  const chosen = s.chosen;
  const headScope = scope === 'head' && !!chosen;
  const values = headScope ? paramsFor(s, chosen.layer, chosen.head) : s.defaults;
  const overridden = chosen ? hasOverride(s, chosen.layer, chosen.head) : false;
  const own = chosen ? s.overrides[`${chosen.layer}:${chosen.head}`] ?? {} : {};
  const disabled = !s.prefill || s.busy;
  return (
    <section className={`panel sliders${headScope ? ' override' : ''}`} aria-label="Parameters">
      <h2>Parameters</h2>
      <div className="scope" role="radiogroup" aria-label="Apply to">
        <label><input type="radio" name="scope" checked={!headScope} onChange={() => setScope('all')} /> All heads</label>
        <label><input type="radio" name="scope" checked={headScope} disabled={!chosen} onChange={() => setScope('head')} /> This head{chosen ? ` (${headName(chosen.layer, chosen.head)})` : ''}</label>
      </div>
      {headScope ? <div className="override-note">Override for {headName(chosen.layer, chosen.head)}{overridden ? '' : ' (none yet: showing the defaults)'}</div> : null}
      {SLIDERS.map((d) => {
        const v = values[d.name];
        const isOwn = headScope && own[d.name] !== undefined;
        return (
          <div className="slider" key={d.name}>
            <label htmlFor={`slider-${d.name}`}>{d.label}{isOwn ? <span className="badge">override</span> : null}</label>
            <input
              id={`slider-${d.name}`}
              type="range"
              aria-label={d.label}
              min={d.min}
              max={d.max}
              step={d.step}
              value={v}
              disabled={disabled}
              onChange={(e) => setParam(headScope ? 'head' : 'all', d.name, Number(e.target.value))}
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
      {t.modelMs !== null ? <>; whole model in {t.modelMs.toFixed(0)} ms</> : '; other layers in progress...'}
    </div>
  );
}
