// The near-lossless check in the studio: the model run dense and with the current per-head
// SampleAttention on the open text, compared on its own outputs; optionally passkey retrieval.
// The figures are those `sa-studio eval` prints for the same text and parameters (same code).
import { useState } from 'react';
import { useStudio } from '../../../state/store';
import { runCheck } from '../../../state/check-actions';
import { paramsKey } from '../../../state/selectors';
import { captureOff } from '../../../state/capture';
import { TaskStatus } from './TaskStatus';

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;

function parseInts(text: string): number[] {
  return text.split(/[,\s]+/).filter((t) => t.length > 0).map(Number);
}

export function CheckPanel() {
  const report = useStudio((s) => s.checkReport);
  const task = useStudio((s) => s.task);
  const off = useStudio((s) => captureOff(s, 'check'));
  const ready = useStudio((s) => !!s.prefill && !s.busy) && !off;
  const maxPositions = useStudio((s) => s.model?.config.maxPositions ?? 0);
  const stale = useStudio((s) => !!s.checkReport && s.checkReport.paramsKey !== paramsKey(s));
  const [withPasskey, setWithPasskey] = useState(false);
  const [lengths, setLengths] = useState('256, 512');
  const [depths, setDepths] = useState('0, 0.5, 1');
  const L = parseInts(lengths), D = parseInts(depths);
  const problem = !withPasskey ? null
    : L.length === 0 || L.some((x) => !Number.isInteger(x) || x < 32 || x > maxPositions) ? `Passkey lengths: whole numbers of tokens from 32 to ${maxPositions}.`
      : D.length === 0 || D.some((x) => !(x >= 0 && x <= 1)) ? 'Passkey depths: numbers in [0, 1].' : null;
  return (
    <section className="panel" aria-label="Near-lossless check">
      <h2>Near-lossless check</h2>
      <div className="muted small-text">The model dense vs with the current per-head SampleAttention in every head, on this text (as <code>sa-studio eval</code>).</div>
      <div className="row">
        <label className="inline"><input type="checkbox" checked={withPasskey} onChange={(e) => setWithPasskey(e.target.checked)} /> passkey retrieval</label>
      </div>
      {withPasskey ? (
        <div className="form-grid">
          <label htmlFor="pk-lengths">Lengths (tokens)</label><input id="pk-lengths" type="text" value={lengths} onChange={(e) => setLengths(e.target.value)} />
          <label htmlFor="pk-depths">Depths</label><input id="pk-depths" type="text" value={depths} onChange={(e) => setDepths(e.target.value)} />
        </div>
      ) : null}
      {problem ? <div className="status error">{problem}</div> : null}
      <div className="row">
        <button disabled={!ready || !!task || !!problem} onClick={() => void runCheck(withPasskey ? { lengths: L, depths: D } : null)}>Run check</button>
      </div>
      {off ? <div className="note" data-testid="check-off">{off}</div> : null}
      <TaskStatus kinds={['check']} />
      {report ? <CheckTable stale={stale} /> : null}
    </section>
  );
}

function CheckTable({ stale }: { stale: boolean }) {
  const r = useStudio((s) => s.checkReport)!;
  const t = r.texts[0];
  const rows: [string, string, string][] = [
    ['tokens', String(t.tokens), 'tokens'],
    ['mean KL', t.meanKl.toExponential(3), 'meanKl'],
    ['max KL', t.maxKl.toExponential(2), 'maxKl'],
    ['top-1 agree', t.top1Agreement.toFixed(4), 'top1'],
    ['ppl dense', t.pplDense.toFixed(3), 'pplDense'],
    ['ppl sparse', t.pplSparse.toFixed(3), 'pplSparse'],
    ['ppl change', signed(t.pplChangePct), 'pplChange'],
    ['recall', t.selection.recallMean.toFixed(4), 'recall'],
    ['worst P5', t.selection.worstRecallP5.toFixed(4), 'worstP5'],
    ['density', t.selection.density.toFixed(4), 'density'],
  ];
  return (
    <div data-testid="check-report">
      {stale ? <div className="note">The parameters changed since this check ran: run it again for the current ones.</div> : null}
      <dl className="kv">
        {rows.map(([name, value, id]) => [<dt key={`${id}-t`}>{name}</dt>, <dd key={id} data-testid={`check-${id}`}>{value}</dd>])}
      </dl>
      <div className="muted small-text">KL(dense || sparse) of the next-token distributions in nats over all positions; perplexity over the S - 1 predicted tokens; recall and density: mean over every head. Adapter: {r.adapter}.</div>
      {r.passkey.length ? <PasskeyTable /> : null}
    </div>
  );
}

function PasskeyTable() {
  const r = useStudio((s) => s.checkReport)!;
  const { lengths, depths } = r.plan!;
  const a = r.passkeyAccuracy!;
  return (
    <figure className="plot">
      <figcaption>Passkey retrieval: D dense, S sparse; + retrieved, - not; = same tokens dense and sparse</figcaption>
      <table className="grid-table" data-testid="passkey-table">
        <thead><tr><th>length</th>{depths.map((d, di) => <th key={di}>depth {d}</th>)}</tr></thead>
        <tbody>
          {lengths.map((L, li) => (
            <tr key={li}>
              <td>{L}</td>
              {depths.map((d, di) => {
                const x = r.passkey[li * depths.length + di];
                return <td key={di} title={x ? `pass key ${x.passkey} (${x.tokens} tokens): dense ${JSON.stringify(x.dense.continuation)}, sparse ${JSON.stringify(x.sparse.continuation)}` : ''}>{x ? `D${x.dense.retrieved ? '+' : '-'} S${x.sparse.retrieved ? '+' : '-'} ${x.agree ? '=' : '~'}` : ''}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="small-text">accuracy: dense {(100 * a.dense).toFixed(1)}%, sparse {(100 * a.sparse).toFixed(1)}%; identical continuations {(100 * a.agreement).toFixed(1)}%</div>
      {a.dense === 0 ? <div className="note">The model does not retrieve the pass key even with dense attention: retrieval says nothing about SampleAttention here; compare the continuations instead.</div> : null}
    </figure>
  );
}
