// The precision the studio computes in, always shown: f32 (the exact kernels, what recall and the
// maps are by default) or f16 (tensor cores), offered only where the device has them.
import { choosePrecision } from '../../state/pipeline';
import { useStudio } from '../../state/store';

export function PrecisionSwitch() {
  const info = useStudio((s) => s.precision);
  const busy = useStudio((s) => s.busy);
  const why = info.f16 ? 'f16 operands and f32 accumulation on tensor cores' : `f16 needs ${info.missing.join(', ')} (Chrome: --enable-unsafe-webgpu; NVIDIA: driver 615.71+ for shader-f16)`;
  return (
    <label className="precision" title={why}>
      Precision{' '}
      <select data-testid="precision" value={info.precision} disabled={busy} onChange={(e) => void choosePrecision(e.target.value as 'f32' | 'f16')}>
        <option value="f32">f32 (exact)</option>
        <option value="f16" disabled={!info.f16}>f16 (tensor cores){info.f16 ? '' : ' - not on this GPU'}</option>
      </select>
      <span className="muted" data-testid="precision-path">{info.precision === 'f16' ? ' tensor cores' : ' exact f32 kernels'}</span>
    </label>
  );
}
