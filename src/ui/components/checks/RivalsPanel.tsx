// SampleAttention beside its rivals on the same heads: recall vs density curves for the chosen
// head and for the whole model, and a table of each pattern's recall at equal densities.
import { headName, useStudio } from '../../../state/store';
import { RIVALS_MAX_TOKENS, importMInference, runRivals } from '../../../state/check-actions';
import { chosenSelection, paramsFor, paramsKey } from '../../../state/selectors';
import { settingLongText } from '../../../sampleattention/spec/setting';
import { recallAtDensity, type RivalCurve } from '../../../sampleattention/studies/rivals';
import { curvesOf } from '../../../sampleattention/studies/rivals-study';
import { PATTERN_STYLE, RivalsPlot } from './RivalsPlot';
import { TaskStatus } from './TaskStatus';

const AT = [0.1, 0.2, 0.3, 0.5];

function AtDensity({ curves, testid }: { curves: RivalCurve[]; testid: string }) {
  return (
    <table className="grid-table" data-testid={testid}>
      <thead><tr><th>pattern</th>{AT.map((d) => <th key={d}>recall @ {d}</th>)}</tr></thead>
      <tbody>
        {curves.map((c) => (
          <tr key={c.pattern}>
            <td style={{ color: PATTERN_STYLE[c.pattern].color }}>{c.pattern}</td>
            {AT.map((d) => {
              const r = recallAtDensity(c, d);
              return <td key={d} title={Number.isNaN(r) ? 'the sweep never gets this sparse' : undefined}>{Number.isNaN(r) ? '-' : r.toFixed(3)}</td>;
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The MInference file's one point (mean over heads: its sizes are fixed, nothing is swept)
 * beside SampleAttention's recall at that density, as `sa-studio rivals --minference` says it. */
function MInferencePoint({ curves }: { curves: RivalCurve[] }) {
  const mi = curves.find((c) => c.pattern === 'minference')?.points[0];
  const sa = curves.find((c) => c.pattern === 'sampleattention');
  if (!mi || !sa) return null;
  const at = recallAtDensity(sa, mi.density);
  return <div className="small-text" data-testid="minference-point">minference (the imported file, run as MInference's kernel runs it): density {mi.density.toFixed(4)}, recall {mi.recallMean.toFixed(4)}; SampleAttention at that density: {Number.isNaN(at) ? '-' : at.toFixed(4)}.</div>;
}

export function RivalsPanel() {
  const s = useStudio();
  const { head, model } = s.rivals;
  const key = paramsKey(s);
  const sel = chosenSelection(s);
  const c = s.chosen;
  const headHere = head && c && head.layer === c.layer && head.head === c.head ? head : null;
  const ready = !!s.prefill && !s.busy && !s.task;
  const S = s.prefill?.S ?? 0;
  const prefixNote = S > RIVALS_MAX_TOKENS ? ` Computed on the first ${RIVALS_MAX_TOKENS} of ${S} tokens (CPU float64, O(S^2 d) per head).` : '';
  // The live selection is the current setting's point when the curves cover the whole text.
  // It sits on (or, blocks with alphaColumn != alphaSlash, beside) its own variant's curve.
  const mark = headHere && sel && headHere.tokens === headHere.of ? { density: sel.density, recall: sel.recallMean, pattern: sel.variant === 'blocks' ? 'sampleattention-blocks' as const : 'sampleattention' as const } : null;
  // Each head is measured at its own setting (rivals-study.ts headRivalOptions).
  const setting = headHere && headHere.paramsKey === key ? paramsFor(s, headHere.layer, headHere.head) : null;
  return (
    <section className="panel" aria-label="Rival patterns">
      <h2>Rival patterns</h2>
      <div className="muted small-text">Same heads, same measures (recall of the full softmax; density of the causal map), each pattern's knob swept.{prefixNote}</div>
      <div className="row">
        <button disabled={!ready || !c} onClick={() => void runRivals('head')}>Compare rivals: this head</button>
        <button disabled={!ready} onClick={() => void runRivals('model')}>Compare rivals: every head</button>
      </div>
      <div className="row">
        <label className="file-button">Import MInference config...<input type="file" aria-label="Import MInference config" accept=".json,application/json" disabled={!ready} onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void importMInference(f);
        }} /></label>
        {s.minference ? <span className="muted small-text" data-testid="minference-source">{s.minference.source}: its fixed pattern per head is the minference row</span> : null}
      </div>
      <TaskStatus kinds={['rivals-head', 'rivals-model']} />
      {headHere ? (
        <div data-testid="rivals-head">
          <h3 className="subhead">{headName(headHere.layer, headHere.head)}{headHere.paramsKey !== key ? ' (parameters changed since)' : ''}</h3>
          {setting ? <div className="muted small-text" data-testid="rivals-head-setting">SampleAttention at this head's setting, {settingLongText(setting)}{setting.variant === 'blocks' ? ' (its blocks curve sweeps alphaColumn = alphaSlash at its block size; the tokens curve is at the tokens defaults)' : ` (the blocks curve at block ${headHere.blockSize}, its rowRatio)`}</div> : null}
          <RivalsPlot curves={curvesOf(headHere, headHere.layer, headHere.head)!} label={`Recall versus density of every pattern, ${headName(headHere.layer, headHere.head)}`} mark={mark} />
          <AtDensity curves={curvesOf(headHere, headHere.layer, headHere.head)!} testid="rivals-head-table" />
        </div>
      ) : null}
      {model ? (
        <div data-testid="rivals-model">
          <h3 className="subhead">Whole model (mean over {model.head_curves.length} heads){model.paramsKey !== key ? ' (parameters changed since)' : ''}</h3>
          <RivalsPlot curves={model.model_curves} label="Recall versus density of every pattern, whole model" />
          <AtDensity curves={model.model_curves} testid="rivals-model-table" />
          <MInferencePoint curves={model.model_curves} />
        </div>
      ) : null}
    </section>
  );
}
