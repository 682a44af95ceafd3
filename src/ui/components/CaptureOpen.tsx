// Open a capture file (post-RoPE q, k, v per layer: `sa-studio capture`, tools/capture) without the
// model: a file picker here and drag-and-drop onto the whole studio (App). While one is open this
// panel says what it holds, the limits it was checked against, and what is off without the model.
import { useStudio } from '../../state/store';
import { captureOff, openCaptureFile } from '../../state/capture';

const MiB = 2 ** 20;
const size = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= MiB ? `${(b / MiB).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/** "capture: <file> (<model name>, S tokens, L layers)", for the page header. */
export function CaptureBadge() {
  const c = useStudio((s) => s.model?.capture);
  if (!c) return null;
  return <span className="capture-badge" data-testid="capture-badge">capture: {c.file} ({c.modelName ?? 'model not named in the file'}, {c.S} tokens, {c.layers.length} layers)</span>;
}

export function CaptureOpen() {
  const s = useStudio();
  const c = s.model?.capture;
  const busy = s.busy || s.status === 'no-webgpu' || s.status === 'starting';
  return (
    <section className="panel" aria-label="Capture">
      <h2>Capture</h2>
      <div className="row">
        <label className="file-button">Open capture...<input type="file" aria-label="Open capture file" accept=".safetensors" disabled={busy} onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void openCaptureFile(f);
        }} /></label>
        <span className="muted small-text">or drop one .safetensors capture onto the page</span>
      </div>
      {c ? (
        <>
          <dl className="kv" data-testid="capture-info">
            <dt>file</dt><dd>{c.file} ({size(c.bytes)})</dd>
            <dt>model</dt><dd>{c.modelName ?? 'not named in the file'}{c.family ? ` (${c.family})` : ''}</dd>
            <dt>layers</dt><dd>{c.layers.length}{c.numLayers && c.numLayers !== c.layers.length ? ` of ${c.numLayers}` : ''}: {c.layers.join(', ')}</dd>
            <dt>heads</dt><dd>{c.heads} ({c.kvHeads} kv), head dim {c.headDim}{c.hasV ? '' : ', no v (no output error)'}</dd>
            <dt>tokens</dt><dd>{c.S}</dd>
          </dl>
          <div className="muted small-text" data-testid="capture-limits">
            Read layer by layer: one layer is {size(c.layerBytes)} of q/k{c.hasV ? '/v' : ''}; {c.maxResident >= c.layers.length ? `all ${c.layers.length} stay on the GPU once read.` : `up to ${c.maxResident} stay on the GPU; the others are read from the file again when needed.`}{' '}
            Limit: a layer's q must fit one GPU buffer ({size(c.bindingBytes)} here), so at {c.heads} heads x d {c.headDim} at most {c.maxTokens} tokens; larger captures are refused with these numbers.
          </div>
          <div className="note" data-testid="capture-off">{captureOff(s, 'check')} {captureOff(s, 'tokens')}{c.identity ? '' : ` Config export: ${c.identityProblem}`}</div>
          <div className="muted small-text">Pick a model above to leave the capture.</div>
        </>
      ) : (
        <div className="muted small-text">A capture holds every layer's q, k (and v) of one text: the studio selects, draws, times, tunes and compares rivals on it without loading the model. Limit: one layer must fit a GPU buffer (a layer at 64K tokens x 32 heads x d 128 is 1 GiB of q).</div>
      )}
    </section>
  );
}
