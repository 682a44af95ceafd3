// Model and text: the bundled model (or a checkpoint the user picks as a folder or files), a
// bundled sample, pasted text or a text file; the token limit; progress and cancel.
import { useState } from 'react';
import { useStudio } from '../../state/store';
import { chooseText, passkeyFromName, passkeyName, setMaxTokens } from '../../state/pipeline';
import { openPicked, openServed } from '../../state/start';
import { cancel } from '../../state/session';
import { BUNDLED_TEXTS } from '../../state/texts';
import { ProgressBar } from './ProgressBar';

const SERVED = ['default', 'fixture-llama3'];

export function Inputs() {
  const s = useStudio();
  const [paste, setPaste] = useState('');
  const [limit, setLimit] = useState<string>('');
  const [pkTokens, setPkTokens] = useState(2000);
  const [pkDepth, setPkDepth] = useState(0.5);
  const served = s.modelSource.kind === 'served' ? s.modelSource.name : '';
  const busy = s.busy;
  // Passkey texts up to the model's whole context (32K for the default model).
  const pkMax = s.model?.config.maxPositions ?? 8192;
  // A capture brings its own tokens: no text runs until a model is open again.
  const noText = !s.model || !!s.model.capture;
  return (
    <section className="panel" aria-label="Model and text">
      <h2>Model</h2>
      <div className="row">
        <select aria-label="Bundled model" value={served} disabled={busy || s.status === 'no-webgpu'} onChange={(e) => void openServed(e.target.value)}>
          {served === '' ? <option value="">{s.modelSource.name} (picked)</option> : null}
          {SERVED.map((m) => <option key={m} value={m}>{m}</option>)}
        </select>
        <label className="file-button">Folder...<input type="file" aria-label="Open checkpoint folder" {...{ webkitdirectory: '' }} multiple disabled={busy} onChange={(e) => e.target.files?.length && void openPicked(e.target.files)} /></label>
        <label className="file-button">Files...<input type="file" aria-label="Open checkpoint files" multiple accept=".json,.safetensors" disabled={busy} onChange={(e) => e.target.files?.length && void openPicked(e.target.files)} /></label>
      </div>
      {s.modelNote ? <div className="note">{s.modelNote}</div> : null}
      {s.model && !s.model.capture ? (
        <dl className="kv">
          <dt>name</dt><dd data-testid="model-name">{s.model.name}</dd>
          <dt>family</dt><dd>{s.model.config.family}</dd>
          <dt>layers x heads</dt><dd>{s.model.config.numLayers} x {s.model.config.numHeads} ({s.model.config.numKvHeads} kv), head dim {s.model.config.headDim}</dd>
          <dt>parameters</dt><dd>{(s.model.parameters / 1e6).toFixed(2)} M</dd>
        </dl>
      ) : null}
      <h2 style={{ marginTop: 12 }}>Text</h2>
      <div className="row">
        <select aria-label="Sample text" disabled={busy || noText} value={s.text.kind === 'sample' ? s.text.name : ''} onChange={(e) => e.target.value && void chooseText({ kind: 'sample', name: e.target.value })}>
          {s.text.kind !== 'sample' ? <option value="">{s.text.name}</option> : null}
          {BUNDLED_TEXTS.map((x) => <option key={x.file} value={x.file}>{x.title}</option>)}
        </select>
        <label className="file-button">File...<input type="file" aria-label="Open text file" accept=".txt,.md,text/*" disabled={busy || noText} onChange={async (e) => {
          const f = e.target.files?.[0];
          if (f) void chooseText({ kind: 'file', name: f.name, body: await f.text() });
        }} /></label>
      </div>
      <textarea aria-label="Paste a text" placeholder="Paste a text..." value={paste} onChange={(e) => setPaste(e.target.value)} rows={3} />
      <div className="row">
        <button disabled={busy || noText || paste.trim().length === 0} onClick={() => void chooseText({ kind: 'pasted', name: `pasted (${paste.length} chars)`, body: paste })}>Use pasted text</button>
        <label className="inline">max tokens <input type="number" aria-label="Max tokens" min={1} step={1} value={limit === '' ? s.maxTokens : limit} onChange={(e) => setLimit(e.target.value)} onBlur={() => { if (limit !== '') void setMaxTokens(Number(limit)); setLimit(''); }} /></label>
      </div>
      <div className="row" aria-label="Passkey text">
        <label className="inline">passkey ~tokens <input type="number" aria-label="Passkey length" min={64} max={pkMax} step={64} value={pkTokens} onChange={(e) => setPkTokens(Number(e.target.value))} /></label>
        <label className="inline">depth <input type="number" aria-label="Passkey depth" min={0} max={1} step={0.05} value={pkDepth} onChange={(e) => setPkDepth(Number(e.target.value))} /></label>
        <button disabled={busy || noText || !(pkTokens >= 64 && pkTokens <= pkMax && pkDepth >= 0 && pkDepth <= 1)} onClick={() => void chooseText({ kind: 'passkey', name: passkeyName(Math.round(pkTokens), pkDepth, 1) })}>Make passkey text</button>
      </div>
      {s.text.kind === 'passkey' ? <div className="note" data-testid="passkey">Hidden pass key: {passkeyFromName(s.text.name).passkey}</div> : null}
      {s.prefill && !s.model?.capture ? (
        <dl className="kv">
          <dt>text</dt><dd>{s.text.name}</dd>
          <dt>tokens</dt><dd data-testid="tokens">{s.prefill.S}</dd>
          <dt>prefill</dt><dd>{s.prefill.ms.toFixed(0)} ms</dd>
        </dl>
      ) : null}
      {/* Without WebGPU the message is the page's banner; it is not repeated here. */}
      <div className={s.status === 'error' ? 'status error' : 'status'} role="status" data-testid="status">{s.status === 'no-webgpu' ? 'Needs WebGPU (see above).' : s.message}</div>
      {s.progress ? <ProgressBar progress={s.progress} /> : null}
      {busy ? <button onClick={cancel}>Cancel</button> : null}
    </section>
  );
}
