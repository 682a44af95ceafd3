import type { Progress } from '../../engine/types';

const fmt = (n: number, unit: string) => (unit === 'bytes' ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} ${unit}`);
const PHASE: Record<Progress['phase'], string> = { load: 'Loading weights', tokenize: 'Tokenizing', prefill: 'Prefill', select: 'SampleAttention', measure: 'Measures', tune: 'Auto-tune', check: 'Near-lossless check', rivals: 'Rival patterns' };

export function ProgressBar({ progress }: { progress: Progress }) {
  const pct = progress.total > 0 ? (100 * progress.done) / progress.total : 0;
  return (
    <div aria-label={`${PHASE[progress.phase]} progress`}>
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
        <div style={{ width: `${pct}%` }} />
      </div>
      <div className="status">{PHASE[progress.phase]}: {fmt(progress.done, progress.unit)} of {fmt(progress.total, progress.unit)}</div>
    </div>
  );
}
