// The studio: inputs and parameters on the left, the overview (grid or 3D) and the chosen head in
// the middle, measures on the right. Components read the store; actions drive the engine.
import { Suspense, lazy, useEffect, useState } from 'react';
import { useStudio } from '../state/store';
import { startStudio } from '../state/start';
import { Inputs } from './components/Inputs';
import { Sliders } from './components/Sliders';
import { ConfigIO } from './components/ConfigIO';
import { Overview } from './components/Overview';
import { HeadView } from './components/head-view/HeadView';
import { Measures } from './components/Measures';
import { TunePanel } from './components/checks/TunePanel';
import { CheckPanel } from './components/checks/CheckPanel';
import { RivalsPanel } from './components/checks/RivalsPanel';
import { TaskMessage } from './components/checks/TaskStatus';
import { PrecisionSwitch } from './components/PrecisionSwitch';
import { EngineFault } from './components/EngineFault';
import { CaptureBadge, CaptureOpen } from './components/CaptureOpen';
import { isCaptureDrop, openCaptureFile } from '../state/capture';
import { openPicked } from '../state/start';

// three.js is large: load the 3D view only when asked for.
const Stack3D = lazy(() => import('./components/Stack3D'));

export function App() {
  const status = useStudio((s) => s.status);
  const message = useStudio((s) => s.message);
  const adapter = useStudio((s) => s.adapter);
  const hasModel = useStudio((s) => !!s.model);
  const [view, setView] = useState<'grid' | '3d'>('grid');
  useEffect(() => {
    void startStudio();
  }, []);
  return (
    <div className="studio" onDragOver={(e) => e.preventDefault()} onDrop={(e) => {
      // One .safetensors file is a capture; a checkpoint's files (config.json, ...) open as a model.
      e.preventDefault();
      const files = Array.from(e.dataTransfer.files);
      if (files.length === 0 || useStudio.getState().busy) return;
      void (isCaptureDrop(files) ? openCaptureFile(files[0]) : openPicked(files));
    }}>
      <header>
        <h1>SampleAttention Studio</h1>
        <CaptureBadge />
        <span className="adapter" data-testid="adapter">{adapter ? `WebGPU: ${adapter}` : ''}</span>
        {adapter ? <PrecisionSwitch /> : null}
      </header>
      {status === 'no-webgpu' ? (
        <div className="no-webgpu" role="alert" data-testid="no-webgpu">
          <h2>This browser has no WebGPU</h2>
          <p>{message}</p>
        </div>
      ) : null}
      <EngineFault />
      <main>
        <div className="col">
          <Inputs />
          <CaptureOpen />
          <Sliders />
          <ConfigIO />
        </div>
        <div className="col">
          <section className="panel" aria-label="Overview">
            <div className="tabs" role="tablist">
              <h2>Every head</h2>
              <button role="tab" aria-selected={view === 'grid'} onClick={() => setView('grid')}>Grid</button>
              <button role="tab" aria-selected={view === '3d'} onClick={() => setView('3d')}>3D</button>
              <span className="muted small-text">frame colour: recall (red 0.8 .. green 1) · bar: density</span>
            </div>
            {hasModel ? (view === 'grid' ? <Overview width={560} /> : (
              <Suspense fallback={<div className="muted">Loading the 3D view...</div>}>
                <Stack3D height={420} />
              </Suspense>
            )) : null}
          </section>
          <section className="panel" aria-label="Head">
            <HeadView size={440} />
          </section>
        </div>
        <div className="col">
          <Measures />
        </div>
      </main>
      {hasModel ? (
        <section className="checks" aria-label="Model-wide checks">
          <div style={{ gridColumn: '1 / -1' }}><TaskMessage /></div>
          <TunePanel />
          <CheckPanel />
          <RivalsPanel />
        </section>
      ) : null}
    </div>
  );
}
