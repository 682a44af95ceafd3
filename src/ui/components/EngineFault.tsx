// The banner after the engine stopped (the GPU device was lost, its worker died or went silent):
// what happened, what to do, and the one-click recovery. The store keeps every choice, so the
// restart brings back the model, text, parameters and per-head overrides (state/restart.ts).
import { useState } from 'react';
import { useStudio } from '../../state/store';
import { restartEngine } from '../../state/restart';

const TITLE = {
  'device-lost': 'The GPU device was lost',
  'worker-error': "The engine's worker stopped",
  'worker-silent': "The engine's worker stopped answering",
  closed: 'The engine was closed',
} as const;

export function EngineFault() {
  const fault = useStudio((s) => s.fault);
  const [restarting, setRestarting] = useState(false);
  if (!fault) return null;
  return (
    <div className="engine-fault" role="alert" data-testid="engine-fault">
      <h2>{TITLE[fault.kind]}</h2>
      <p>{fault.message}</p>
      <button disabled={restarting} onClick={() => {
        setRestarting(true);
        void restartEngine().finally(() => setRestarting(false));
      }}>{restarting ? 'Restarting...' : 'Restart engine'}</button>
    </div>
  );
}
