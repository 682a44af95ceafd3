// The overlay stepper (SampleAttention's stages in the algorithm's order) and the legend of what
// the current stage draws, in the shared palette; a blocks head's stages by their own names.
import { setOverlay } from '../../../state/head';
import { BLOCKS_OVERLAYS, OVERLAYS, STAGE, useStudio } from '../../../state/store';
import { PALETTE } from '../../../render/palette';

export function OverlayStepper({ blocks = false }: { blocks?: boolean }) {
  const overlay = useStudio((s) => s.overlay);
  const label = (name: (typeof OVERLAYS)[number]) => (blocks ? BLOCKS_OVERLAYS[name] : name);
  return (
    <div className="stepper" role="group" aria-label="Overlays in algorithm order">
      <button onClick={() => setOverlay(overlay - 1)} disabled={overlay === 0}>Previous stage</button>
      {OVERLAYS.map((name, i) => (
        <button key={name} className={`stage${i <= overlay ? ' on' : ''}`} aria-pressed={i <= overlay} onClick={() => setOverlay(i)}>
          {i}. {label(name)}
        </button>
      ))}
      <button onClick={() => setOverlay(overlay + 1)} disabled={overlay === OVERLAYS.length - 1}>Next stage</button>
      <span className="current-stage" data-testid="current-stage">Showing: {label(OVERLAYS[overlay])}</span>
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

/** A blocks head's names of the same entries. */
const BLOCKS_NAMES: Record<string, string> = {
  'sampled rows': 'sampled tail rows',
  'column scores': 'column-block and slash-band scores',
  'selected stripes': 'kept column blocks',
  'local window': 'kept slash bands',
};

export function Legend({ overlay, blocks = false }: { overlay: number; blocks?: boolean }) {
  return (
    <div className="legend">
      {LEGEND.filter(([, , stage]) => stage <= overlay).map(([n, c]) => [blocks ? BLOCKS_NAMES[n] ?? n : n, c]).map(([name, c]) => (
        <span key={name}><i style={{ background: c }} />{name}</span>
      ))}
    </div>
  );
}
