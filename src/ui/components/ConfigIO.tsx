// Export the per-head config JSON (src/sampleattention/formats/config-file.ts) and import one back, with the
// validator's exact message when the file is wrong.
import { useStudio } from '../../state/store';
import { exportConfig, importConfig } from '../../state/config-io';
import { resetAll } from '../../state/params';

export function ConfigIO() {
  const msg = useStudio((s) => s.configMessage);
  const ready = useStudio((s) => !!s.prefill && !s.busy);
  return (
    <section className="panel" aria-label="Config">
      <h2>Config</h2>
      <div className="row">
        <button onClick={() => void exportConfig()} disabled={!ready}>Export config</button>
        <label className="file-button">Import config<input type="file" aria-label="Import config" accept=".json,application/json" disabled={!ready} onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void importConfig(f);
        }} /></label>
        <button onClick={resetAll} disabled={!ready}>Reset all</button>
      </div>
      {msg ? <div className={msg.ok ? 'status' : 'status error'} role={msg.ok ? 'status' : 'alert'} data-testid="config-message">{msg.text}</div> : null}
    </section>
  );
}
