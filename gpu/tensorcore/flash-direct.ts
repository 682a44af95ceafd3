// Host side of the candidate dense flash attention (flash-direct.wgsl): f16 copies of q, k, v
// (padded rows, so matrix loads at the end stay inside the buffers), then the kernel. The same
// outputs as flashF16Dispatch; not the default until the H200 sweep (`sa-studio bench --precision
// f16 --sweep`) measures it. FLASH_CANDIDATES names the shapes the sweep times.
import type { GpuContext } from '../device';
import { ceilDiv, f32, u32, type Dispatch } from '../kernel';
import { createTensorF16, destroyAll, shapeString, type Tensor } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import type { DenseOutputs } from '../attention/flash';
import { matrixPrimitives } from './primitives';
import type { TensorCoreMode } from './support';
import { toF16Dispatch } from './convert';
import flashDirectWgsl from './flash-direct.wgsl';

export interface FlashCandidate {
  name: string;
  /** Subgroups per workgroup: 16 NSG query rows share each K/V tile. */
  NSG: number;
  /** Keys per tile, a multiple of 16. */
  BKT: number;
}

export const FLASH_CANDIDATES: FlashCandidate[] = [
  { name: 'direct 64q x 32k', NSG: 4, BKT: 32 },
  { name: 'direct 64q x 64k', NSG: 4, BKT: 64 },
  { name: 'direct 128q x 32k', NSG: 8, BKT: 32 },
  { name: 'direct 32q x 64k', NSG: 2, BKT: 64 },
  { name: 'direct 32q x 128k', NSG: 2, BKT: 128 },
];

/** Rows of padding after each f16 copy: a whole query block or key tile past the last row. */
const PAD_ROWS = 128;

export function flashDirectBytes(c: FlashCandidate): number {
  const BQ = 16 * c.NSG;
  return BQ * (c.BKT + 4) * 4 + BQ * (c.BKT + 8) * 2 + BQ * 4 + 4;
}

/** Why this candidate cannot run head dim d here, or null. */
export function flashCandidateUnfit(ctx: GpuContext, c: FlashCandidate, d: number): string | null {
  if (d % 16 !== 0) return `head dim ${d} is not a multiple of 16`;
  if (!(Number.isInteger(c.NSG) && c.NSG >= 1 && c.NSG <= 8) || !(c.BKT % 16 === 0 && c.BKT >= 16 && c.BKT <= PAD_ROWS)) return `bad shape ${JSON.stringify(c)}`;
  const bytes = flashDirectBytes(c);
  if (bytes > ctx.device.limits.maxComputeWorkgroupStorageSize) return `${bytes} bytes of workgroup memory exceed the adapter's ${ctx.device.limits.maxComputeWorkgroupStorageSize}`;
  return null;
}

export function flashDirectSource(c: FlashCandidate, d: number, tc: TensorCoreMode): string {
  const ND = d / 16, NK = c.BKT / 16, BQ = 16 * c.NSG;
  const rep = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
  const decl = [
    rep(ND, (cc) => `  let qL${cc} = load_left_q(qbase + ${16 * cc}u, D);`),
    rep(ND, (n) => `  var oA${n} = acc_zero();`),
  ].join('\n');
  const qk = rep(NK, (n) => [
    `    var sA${n} = acc_zero();`,
    rep(ND, (cc) => `    sA${n} = mma(qL${cc}, load_right_t_k(kbase + (j0 + ${16 * n}u) * D + ${16 * cc}u, D), sA${n});`),
    `    store_acc_sS(sg * 16u * SS + ${16 * n}u, sA${n}, SS);`,
  ].join('\n'));
  const rescale = rep(ND, (n) => `      store_acc_sS(sg * 16u * SS, oA${n}, 16u);\n      workgroupBarrier();\n      scale_scratch(sg, lane);\n      workgroupBarrier();\n      oA${n} = load_acc_sS(sg * 16u * SS, 16u);\n      workgroupBarrier();`);
  const pv = rep(NK, (u) => [
    `    let pL${u} = load_left_sP(sg * 16u * PS + ${16 * u}u, PS);`,
    rep(ND, (n) => `    oA${n} = mma(pL${u}, load_right_v(kbase + (j0 + ${16 * u}u) * D + ${16 * n}u, D), oA${n});`),
  ].join('\n'));
  const store = rep(ND, (n) => `  store_acc_sS(sg * 16u * SS, oA${n}, 16u);\n  workgroupBarrier();\n  write_out(h, i, sg, lane, ${16 * n}u, l);\n  workgroupBarrier();`);
  const body = flashDirectWgsl
    .replace('//@DECL', decl)
    .replace('//@QK', qk)
    .replace('//@RESCALE_O', rescale)
    .replace('//@PV', pv)
    .replace('//@STORE_O', store);
  const consts = [
    `const D: u32 = ${d}u;`, `const ND: u32 = ${ND}u;`, `const BKT: u32 = ${c.BKT}u;`, `const NK: u32 = ${NK}u;`,
    `const NSG: u32 = ${c.NSG}u;`, `const NT: u32 = ${32 * c.NSG}u;`, `const BQ: u32 = ${BQ}u;`,
    // Score rows padded by 4 words (bank spreading, as attention.wgsl), P rows by 8 halves (16 bytes).
    `const SS: u32 = ${c.BKT + 4}u;`, `const PS: u32 = ${c.BKT + 8}u;`,
  ];
  const prims = matrixPrimitives({
    emulate: tc === 'emulated',
    subgroups: c.NSG,
    arrays: [
      { name: 'q', elem: 'f16', uses: ['left'] },
      { name: 'k', elem: 'f16', uses: ['right_t'] },
      { name: 'v', elem: 'f16', uses: ['right'] },
      { name: 'sP', elem: 'f16', uses: ['left'] },
      { name: 'sS', elem: 'f32', uses: ['acc'] },
    ],
  });
  return [prims, ...consts, body].join('\n');
}

/** f16 copies of q, k, v with PAD_ROWS rows of zeros after the last head. */
export interface F16Inputs {
  q: Tensor;
  k: Tensor;
  v: Tensor;
}

export function createF16Inputs(ctx: GpuContext, s: AttentionShape): F16Inputs {
  return {
    q: createTensorF16(ctx, 'q f16 padded', [s.heads * s.S + PAD_ROWS, s.d]), // (heads, S, d) f16 + pad rows
    k: createTensorF16(ctx, 'k f16 padded', [s.kvHeads * s.S + PAD_ROWS, s.d]), // (kvHeads, S, d) f16 + pad rows
    v: createTensorF16(ctx, 'v f16 padded', [s.kvHeads * s.S + PAD_ROWS, s.d]), // (kvHeads, S, d) f16 + pad rows
  };
}

export const destroyF16Inputs = (x: F16Inputs) => destroyAll(x.q, x.k, x.v);

/** The f32 -> f16 conversions into the padded copies (the pad rows stay 0: new buffers are zeroed). */
export function toF16InputsDispatches(ctx: GpuContext, q: Tensor, k: Tensor, v: Tensor, h: F16Inputs): Dispatch[] {
  const view = (t: Tensor, like: Tensor): Tensor => ({ ...t, shape: like.shape });
  return [toF16Dispatch(ctx, q, view(h.q, q)), toF16Dispatch(ctx, k, view(h.k, k)), toF16Dispatch(ctx, v, view(h.v, v))];
}

/** Dense causal attention of every head from the f16 copies: out (heads, S, d), lse (heads, S). */
export function flashDirectDispatch(ctx: GpuContext, tc: TensorCoreMode, c: FlashCandidate, s: AttentionShape, h: F16Inputs, o: DenseOutputs, scale = 1 / Math.sqrt(s.d)): Dispatch {
  checkAttentionShape(`f16 dense attention ${c.name}`, s, { ...h.q, shape: [s.heads, s.S, s.d] }, { ...h.k, shape: [s.kvHeads, s.S, s.d] });
  if (s.heads % s.kvHeads !== 0) throw new RangeError(`f16 dense attention ${c.name}: ${s.heads} heads are not a multiple of ${s.kvHeads} kv heads.`);
  if (h.q.shape[0] < s.heads * s.S + PAD_ROWS || h.k.shape[0] < s.kvHeads * s.S + PAD_ROWS || h.q.shape[1] !== s.d) throw new RangeError(`f16 dense attention ${c.name}: the f16 inputs were made for another shape (createF16Inputs).`);
  const want = [s.heads, s.S, s.d];
  if (o.out.shape.join() !== want.join() || o.lse.shape.join() !== [s.heads, s.S].join()) throw new RangeError(`f16 dense attention ${c.name}: out ${shapeString(o.out.shape)} and lse ${shapeString(o.lse.shape)} must be ${shapeString(want)} and ${shapeString([s.heads, s.S])}.`);
  const unfit = flashCandidateUnfit(ctx, c, s.d);
  if (unfit) throw new RangeError(`f16 dense attention ${c.name}: ${unfit}.`);
  return {
    kernel: { label: `flash f16 ${c.name}`, code: flashDirectSource(c, s.d, tc) },
    buffers: [h.q.buffer, h.k.buffer, h.v.buffer, o.out.buffer, o.lse.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale * Math.LOG2E), u32(0)],
    workgroups: [ceilDiv(s.S, 16 * c.NSG), s.heads],
  };
}
