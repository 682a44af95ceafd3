// Every layer of a host capture (q, k, v read back by forward's capture) through the GPU run: the
// one capture -> upload -> run loop of `sa-studio apply` and `sa-studio maps`.
import type { GpuContext } from '../../../gpu/device';
import { destroyAll, uploadTensor } from '../../../gpu/tensor';
import type { SettingLike } from '../spec/setting';
import { runSampleAttention, type SampleRun } from './layer-run';

export interface HostCapture {
  /** Per layer (heads, S, d) post-RoPE. */
  q: readonly Float32Array[];
  /** Per layer (kvHeads, S, d) post-RoPE. */
  k: readonly Float32Array[];
  /** Per layer (kvHeads, S, d). */
  v: readonly Float32Array[];
}

/** The same read one layer at a time (a capture file: cli/capture-input.ts); v may be absent. */
export interface HostLayerSource {
  count: number;
  read(layer: number): Promise<{ q: Float32Array; k: Float32Array; v?: Float32Array }>;
}

/** Runs layer 0, 1, ... with `paramsOf(layer)` and hands each run to `each` (which may pool it)
 * before its tensors are freed; a HostLayerSource's layers are read as they come. */
export async function runCapturedLayers(
  ctx: GpuContext,
  shape: { heads: number; kvHeads: number; headDim: number },
  cap: HostCapture | HostLayerSource,
  paramsOf: (layer: number) => SettingLike | readonly SettingLike[],
  each: (layer: number, run: SampleRun) => Promise<void> | void,
): Promise<void> {
  const { heads, kvHeads, headDim: d } = shape;
  const src: HostLayerSource = 'read' in cap ? cap : { count: cap.q.length, read: async (l) => ({ q: cap.q[l], k: cap.k[l], v: cap.v[l] }) };
  for (let l = 0; l < src.count; l++) {
    const host = await src.read(l);
    const S = host.q.length / (heads * d);
    const q = uploadTensor(ctx, `q.${l}`, [heads, S, d], host.q); // (heads, S, d) f32
    const k = uploadTensor(ctx, `k.${l}`, [kvHeads, S, d], host.k); // (kvHeads, S, d) f32
    const v = host.v && uploadTensor(ctx, `v.${l}`, [kvHeads, S, d], host.v); // (kvHeads, S, d) f32
    try {
      const run = await runSampleAttention(ctx, { q, k, v, heads, kvHeads, S, d, params: paramsOf(l) });
      try {
        await each(l, run);
      } finally {
        run.dispose();
      }
    } finally {
      destroyAll(q, k, v);
    }
  }
}
