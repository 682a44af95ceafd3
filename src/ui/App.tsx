// The studio's first screen: find WebGPU, load the bundled model, run the bundled text, show a head.
import { useEffect } from 'react';
import { headLabel, useStudio } from '../state/store';
import { startStudio } from '../state/actions';
import { HeatCanvas } from './components/HeatCanvas';
import { ProgressBar } from './components/ProgressBar';

export function App() {
  const s = useStudio();
  useEffect(() => {
    void startStudio();
  }, []);
  return (
    <div className="studio">
      <header>
        <h1>SampleAttention Studio</h1>
        <span className="adapter" data-testid="adapter">{s.adapter ? `WebGPU: ${s.adapter}` : ''}</span>
      </header>
      <main>
        <section className="panel" aria-label="Model and text">
          <h2>Model</h2>
          {s.model ? (
            <dl className="kv">
              <dt>name</dt><dd>{s.model.name}</dd>
              <dt>family</dt><dd>{s.model.config.family}</dd>
              <dt>layers x heads</dt><dd>{s.model.config.numLayers} x {s.model.config.numHeads} ({s.model.config.numKvHeads} kv)</dd>
              <dt>parameters</dt><dd>{(s.model.parameters / 1e6).toFixed(2)} M</dd>
            </dl>
          ) : null}
          <h2 style={{ marginTop: 14 }}>Text</h2>
          {s.prefill ? (
            <dl className="kv">
              <dt>sample</dt><dd>{s.textName}</dd>
              <dt>tokens</dt><dd data-testid="tokens">{s.prefill.S}</dd>
              <dt>prefill</dt><dd>{s.prefill.ms.toFixed(0)} ms</dd>
            </dl>
          ) : null}
          <div className={s.status === 'error' || s.status === 'no-webgpu' ? 'status error' : 'status'} role="status" data-testid="status">
            {s.message}
          </div>
          {s.progress ? <ProgressBar progress={s.progress} /> : null}
        </section>
        <section className="panel" aria-label="Attention map">
          <h2>Attention</h2>
          {s.map && s.prefill ? (
            <figure style={{ margin: 0 }}>
              <div className="map-title">{headLabel(s)}: softmax attention, {s.prefill.S} tokens{s.map.block > 1 ? `, ${s.map.block} x ${s.map.block} block max` : ''}</div>
              <HeatCanvas values={s.map.values} rows={s.map.rows} cols={s.map.cols} size={560} label={`Attention map, ${headLabel(s)}`} />
            </figure>
          ) : null}
        </section>
      </main>
    </div>
  );
}
