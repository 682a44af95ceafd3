// The overlay stepper (SampleAttention's stages in the algorithm's order) and the legend of what
// the current stage draws, in the shared palette.
import { setOverlay } from '../../../state/head';
import { OVERLAYS, STAGE, useStudio } from '../../../state/store';
import { PALETTE } from '../../../render/palette';

export function OverlayStepper() {
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

const LEGEND: [string, string, number][] = [
  ['attention (max P, gamma 0.4)', PALETTE.attentionGradient, STAGE.map],
  ['sampled rows', PALETTE.sampledRows, STAGE.sampledRows],
  ['column scores', PALETTE.scores, STAGE.columnScores],
  ['selected stripes', PALETTE.kept, STAGE.stripes],
  ['local window', PALETTE.window, STAGE.window],
  ['outside the mask (dimmed)', PALETTE.outside, STAGE.finalMask],
  ['missed attention mass', PALETTE.missed, STAGE.missedMass],
];

export function Legend({ overlay }: { overlay: number }) {
  return (
    <div className="legend">
      {LEGEND.filter(([, , stage]) => stage <= overlay).map(([name, c]) => (
        <span key={name}><i style={{ background: c }} />{name}</span>
      ))}
    </div>
  );
}
