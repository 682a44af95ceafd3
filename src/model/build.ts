// buildModel: checkpoint tensors -> the nested Model on the GPU. The plan (weight-plan.ts) is
// checked in full first; then each tensor is widened to f32 on the host, transformed (GPT-2's
// Conv1D transpose and c_attn split) and uploaded, one at a time so only one widened copy is alive.
import type { GpuContext } from '../../gpu/device';
import { destroyAll, numel, shapeString, uploadTensor, uploadTensorF16, type Tensor } from '../../gpu/tensor';
import { f16Overflow, toF16 } from '../../gpu/tensorcore/half';
import type { TensorCoreMode } from '../../gpu/tensorcore/support';
import { firstNonFinite, widenToF32 } from '../../gpu/forward/widen';
import { LimitError, NonFiniteWeightError } from '../../gpu/errors';
import { transposeHost } from '../../gpu/forward/matmul';
import type { ModelConfig, WeightSource } from './config';
import { modelTensors, type Block, type Linear, type Model, type Norm, type Precision } from './model';
import { planWeights, tensorFile, type WeightSpec } from './weight-plan';

/** Supplies the tensor for a role ("blocks.0.attention.q.weight", ...) with the given shape, or
 * undefined where the model has none (a bias the config does not have). */
export type TensorProvider = (role: string, shape: number[]) => Tensor | undefined;

/** Lays the model out from `provide`; buildModel provides checkpoint tensors, benchmarks random ones. */
export function assembleModel(ctx: GpuContext, config: ModelConfig, tiedEmbeddings: boolean, provide: TensorProvider, precision: { precision: Precision; tensorCores?: TensorCoreMode } = { precision: 'f32' }): Model {
  const c = config;
  const H = c.hiddenSize, hd = c.headDim, I = c.intermediateSize;
  const need = (role: string, shape: number[]): Tensor => {
    const t = provide(role, shape);
    if (!t) throw new Error(`buildModel: no tensor for ${role} ${shapeString(shape)}.`);
    return t;
  };
  const linear = (role: string, out: number, inp: number, bias: boolean): Linear => ({
    weight: need(`${role}.weight`, [out, inp]),
    bias: bias ? need(`${role}.bias`, [out]) : undefined,
  });
  const kind = c.norm;
  const norm = (role: string, n: number, k: 'rms' | 'layer' = kind): Norm => ({
    kind: k,
    weight: need(`${role}.weight`, [n]),
    bias: k === 'layer' ? need(`${role}.bias`, [n]) : undefined,
    eps: c.normEps,
  });
  const tokens = need('embeddings.tokens', [c.vocabSize, H]);
  const positions = c.family === 'gpt2' ? need('embeddings.positions', [c.maxPositions, H]) : undefined;
  const blocks: Block[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const r = `blocks.${i}.`;
    blocks.push({
      attnNorm: norm(r + 'attnNorm', H),
      attention: {
        q: linear(r + 'attention.q', c.numHeads * hd, H, c.qkvBias),
        k: linear(r + 'attention.k', c.numKvHeads * hd, H, c.qkvBias),
        v: linear(r + 'attention.v', c.numKvHeads * hd, H, c.qkvBias),
        o: linear(r + 'attention.o', H, c.numHeads * hd, c.oBias),
        // Qwen3's q_norm / k_norm are RMSNorms whatever the model's main norm.
        qNorm: c.qkNorm ? norm(r + 'attention.qNorm', hd, 'rms') : undefined,
        kNorm: c.qkNorm ? norm(r + 'attention.kNorm', hd, 'rms') : undefined,
      },
      mlpNorm: norm(r + 'mlpNorm', H),
      mlp: {
        gate: c.act === 'silu' ? linear(r + 'mlp.gate', I, H, c.mlpBias) : undefined,
        up: linear(r + 'mlp.up', I, H, c.mlpBias),
        down: linear(r + 'mlp.down', H, I, c.mlpBias),
        act: c.act,
      },
    });
  }
  const finalNorm = norm('finalNorm', H);
  // Tied and f16: the gather reads the f32 table, the LM head its f16 copy (role lmHead.weight).
  const lmHead: Linear = tiedEmbeddings && precision.precision === 'f32' ? { weight: tokens } : { weight: need('lmHead.weight', [c.vocabSize, H]) };
  const parts = { embeddings: { tokens, positions }, blocks, finalNorm, lmHead };
  let disposed = false;
  return {
    ctx,
    config: c,
    ...parts,
    tiedEmbeddings,
    ...precision,
    dispose() {
      if (disposed) return;
      disposed = true;
      destroyAll(...modelTensors(parts));
    },
  };
}

/** The stored tensor of `spec` as the model's f32 values (widened, transposed, sliced). */
export function loadSpec(weights: WeightSource, spec: WeightSpec, cache?: { name: string; data: Float32Array }): Float32Array {
  const widen = () => {
    if (cache && cache.name === spec.name) return cache.data;
    const t = weights.get(spec.name);
    const data = widenToF32(t.dtype, t.bytes, numel(t.shape), `Tensor "${spec.name}"`);
    checkFiniteWeight(weights, spec.name, t.shape, data);
    if (cache) { cache.name = spec.name; cache.data = data; }
    return data;
  };
  const tr = spec.transform;
  if (tr.kind === 'copy') return widen();
  if (tr.kind === 'slice') return widen().slice(tr.from, tr.to);
  // conv1d: stored (in, out) -> (out, in), keep rows [from, to).
  const [inp, out] = spec.stored;
  const all = transposeHost(widen(), inp, out);
  return tr.from === 0 && tr.to === out ? all : all.slice(tr.from * inp, tr.to * inp);
}

/** Throws a NonFiniteWeightError naming the tensor, its file and its first NaN or infinite element.
 * One pass over values the host holds anyway (they were just widened), so it costs little next to
 * the upload. */
export function checkFiniteWeight(weights: WeightSource & { fileOf?(name: string): string | undefined; label?: string }, name: string, shape: readonly number[], data: Float32Array): void {
  const i = firstNonFinite(data);
  if (i < 0) return;
  const file = tensorFile(weights, name);
  let count = 0;
  for (let j = i; j < data.length; j++) if (!Number.isFinite(data[j])) count++;
  // The element's index in the stored shape, e.g. [3, 17].
  const at: number[] = [];
  let rest = i;
  for (let d = shape.length - 1; d >= 0; d--) { at.unshift(rest % shape[d]); rest = Math.floor(rest / shape[d]); }
  throw new NonFiniteWeightError(
    `Tensor "${name}"${file ? ` in ${file}` : ''} holds ${count} non-finite value${count > 1 ? 's' : ''}: element [${at.join(', ')}] (flat ${i}) is ${data[i]}. ` +
      'The checkpoint is corrupt or was saved after training diverged: download it again or use an earlier checkpoint.',
    { tensor: name, file }, i, data[i],
  );
}

/** Throws a LimitError, before anything is uploaded, when a weight (as f32 on the GPU) is larger
 * than the adapter's maxStorageBufferBindingSize or maxBufferSize. */
export function checkWeightsFit(ctx: GpuContext, specs: readonly WeightSpec[], weights: WeightSource & { fileOf?(name: string): string | undefined; label?: string }): void {
  const { maxStorageBufferBindingSize: bind, maxBufferSize: buf } = ctx.device.limits;
  const limit = Math.min(bind, buf);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  let total = 0;
  for (const s of specs) total += numel(s.shape) * 4;
  for (const s of specs) {
    const bytes = numel(s.shape) * 4;
    if (bytes <= limit) continue;
    const file = tensorFile(weights, s.name);
    throw new LimitError(
      `Tensor "${s.name}"${file ? ` in ${file}` : ''} ${shapeString(s.shape)} needs ${mib(bytes)} as f32 on the GPU, more than this adapter's ` +
        `${bind === limit ? `maxStorageBufferBindingSize (${mib(bind)})` : `maxBufferSize (${mib(buf)})`}; the whole model needs ${mib(total)}. ` +
        'Use a smaller model, or a GPU (browser) with larger buffer limits.',
      bytes, limit, { tensor: s.name, file },
    );
  }
}

/** Builds the model on the GPU from a checkpoint; throws naming the tensor when one is missing or
 * has the wrong shape for `config`, is larger than the adapter's limits (before any upload) or
 * holds a NaN or infinite value. Synchronous: the WeightSource holds the bytes already. With
 * precision f16 the Linear matrices and the LM head are uploaded as f16 (tensor cores). */
export function buildModel(ctx: GpuContext, config: ModelConfig, weights: WeightSource, opts: { precision: Precision; tensorCores?: TensorCoreMode } = { precision: 'f32' }): Model {
  if (opts.precision === 'f16' && !opts.tensorCores) throw new Error('buildModel: precision f16 needs the tensor-core mode (gpu/tensorcore/support.ts requireTensorCores).');
  const plan = planWeights(config, weights);
  checkWeightsFit(ctx, plan.specs, weights);
  const byRole = new Map(plan.specs.map((s) => [s.role, s]));
  // A tied f16 model's LM head is an f16 copy of the token embedding.
  const tokensSpec = byRole.get('embeddings.tokens');
  if (opts.precision === 'f16' && plan.tiedEmbeddings && tokensSpec) byRole.set('lmHead.weight', { ...tokensSpec, role: 'lmHead.weight' });
  const uploaded: Tensor[] = [];
  // GPT-2's c_attn feeds q, k and v: keep its widened values for the next two roles.
  const cache = { name: '', data: new Float32Array(0) };
  try {
    return assembleModel(ctx, config, plan.tiedEmbeddings, (role, shape) => {
      const spec = byRole.get(role);
      if (!spec) return undefined;
      const data = loadSpec(weights, spec, cache);
      if (opts.precision === 'f16' && isF16Role(role)) {
        const bad = f16Overflow(data);
        if (bad >= 0) throw new Error(`Tensor "${spec.name}" (${role}) holds ${data[bad]} at element ${bad}, beyond the f16 range (65504): run this checkpoint with --precision f32.`);
        const t = uploadTensorF16(ctx, `${role} (${spec.name}) f16`, shape, toF16(data)); // shape as the role says, f16
        uploaded.push(t);
        return t;
      }
      const t = uploadTensor(ctx, `${role} (${spec.name})`, shape, data); // shape as the role says, f32
      uploaded.push(t);
      return t;
    }, opts);
  } catch (e) {
    destroyAll(...uploaded);
    throw e;
  }
}

/** The weights the f16 path keeps as f16: the matrices of Linear layers and the LM head. */
export function isF16Role(role: string): boolean {
  return role === 'lmHead.weight' || (/\.(attention\.[qkvo]|mlp\.(gate|up|down))\.weight$/.test(role));
}
