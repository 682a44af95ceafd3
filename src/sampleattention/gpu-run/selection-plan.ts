// Every head's selection and sparse pass for one layer, whatever mix of variants its heads use:
// the steps (copies and dispatches, in order) of each group of heads (head-groups.ts), the sparse
// output and log-sum-exp written into the layer's tensors, and optionally each head's mask planes
// (gpu/sample/mask-planes.ts) for the measures and the pooled maps. The one home of this plumbing
// for the measured run (layer-run.ts) and the measure-free prefill (prefill-attention.ts).
import type { GpuContext } from '../../../gpu/device';
import type { Step } from '../../../gpu/kernel';
import { ceilDiv } from '../../../gpu/kernel';
import { createTensor, destroyAll, readU32, type Tensor } from '../../../gpu/tensor';
import type { AttentionShape } from '../../../gpu/attention/shapes';
import { uploadSampledRows } from '../../../gpu/sample/stage1';
import { createBlocksStages, destroyBlocksStages } from '../../../gpu/sample/blocks-stages';
import { BLOCKS_BQ } from '../../../gpu/sample/blocks-sparse';
import { blocksPlanesDispatch, tokensPlanesDispatch, uploadHeadMap, type MaskPlaneTensors } from '../../../gpu/sample/mask-planes';
import type { TensorCoreMode } from '../../../gpu/tensorcore/support';
import { kvHalvesFor } from '../../../gpu/tensorcore/convert';
import { blocksSampledRows } from '../spec/blocks/params';
import { settingParams, type BlocksHeadResult, type BlocksSetting, type CommonMeasures, type HeadSetting, type TokensHeadResult, type TokensSetting } from '../spec/setting';
import { groupInputs, headGroups, scatterHeads } from './head-groups';
import { blocksSparseFor, blocksStagesFor, destroySelectionStages, selectionStages, sparseFor } from './passes';

/** Where the sparse pass writes, for every head of the layer. */
export interface SelectionTarget {
  /** (heads, S, d) f32; absent: the log-sum-exp only (no v). */
  out?: Tensor;
  /** (heads, S) f32 */
  lse: Tensor;
}

/** A head's selection without the measures (those come from the measures pass). */
export type SelectionPart = Omit<TokensHeadResult, keyof CommonMeasures> | Omit<BlocksHeadResult, keyof CommonMeasures>;

export interface SelectionPlan {
  steps: Step[];
  /** Once the steps ran: each head's selection, in head order. */
  read(): Promise<SelectionPart[]>;
  /** Frees what the plan made (not the target, not the planes). */
  free(): void;
}

interface GroupPlan {
  steps: Step[];
  read(): Promise<[number, SelectionPart][]>;
  free(): void;
}

/** v must be given exactly when target.out is. */
export function selectionPlan(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, settings: readonly HeadSetting[], scale: number, tc: TensorCoreMode | undefined, target: SelectionTarget, planes?: MaskPlaneTensors): SelectionPlan {
  if (!!v !== !!target.out) throw new Error('selectionPlan: give both v and an output tensor, or neither (log-sum-exp only).');
  const groups: GroupPlan[] = [];
  try {
    for (const g of headGroups(settings)) groups.push(g.variant === 'tokens' ? tokensGroup(ctx, shape, q, k, v, g.heads, settings, scale, tc, target, planes) : blocksGroup(ctx, shape, q, k, v, g.heads, g.blockSize!, settings, scale, tc, target, planes));
  } catch (e) {
    for (const g of groups) g.free();
    throw e;
  }
  return {
    steps: groups.flatMap((g) => g.steps),
    read: async () => {
      const parts: SelectionPart[] = [];
      for (const g of groups) for (const [h, p] of await g.read()) parts[h] = p;
      return parts;
    },
    free: () => { for (const g of groups) g.free(); },
  };
}

/** The group's sparse outputs: the layer's tensors when it is every head, else its own, copied
 * back into the layer's head rows after the pass. */
function groupTarget(ctx: GpuContext, gs: AttentionShape, gathered: boolean, target: SelectionTarget, needOut: boolean) {
  const { S, d } = gs;
  const own: Tensor[] = [];
  const make = (label: string, shape: number[]) => { const t = createTensor(ctx, label, shape); own.push(t); return t; };
  const out = !gathered && target.out ? target.out : needOut || target.out ? make('group sparse out', [gs.heads, S, d]) : undefined; // (gh, S, d) f32
  const lse = gathered ? make('group sparse lse', [gs.heads, S]) : target.lse; // (gh, S) f32
  return { out, lse, own };
}

function scatter(heads: readonly number[], gs: AttentionShape, gathered: boolean, got: { out?: Tensor; lse: Tensor }, target: SelectionTarget): Step[] {
  if (!gathered) return [];
  return [
    ...(target.out && got.out ? scatterHeads(got.out.buffer, target.out.buffer, heads, gs.S * gs.d * 4) : []),
    ...scatterHeads(got.lse.buffer, target.lse.buffer, heads, gs.S * 4),
  ];
}

function tokensGroup(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, heads: number[], settings: readonly HeadSetting[], scale: number, tc: TensorCoreMode | undefined, target: SelectionTarget, planes?: MaskPlaneTensors): GroupPlan {
  const gi = groupInputs(ctx, shape, q, k, v, heads);
  const gs = gi.shape, S = gs.S;
  const params = heads.map((h) => settingParams(settings[h] as TokensSetting));
  // On tensor cores the stages and the sparse pass read f16 q / K / V (converted here, in the steps).
  const kv16 = kvHalvesFor(ctx, tc, gi.k, gi.v, gi.q);
  const qq = kv16?.q ?? gi.q;
  const st = selectionStages(ctx, gs, qq, kv16?.k ?? gi.k, params, scale, tc);
  const t = groupTarget(ctx, gs, gi.gathered, target, false);
  // Without an output the kernel binds a stand-in: two writable bindings may not alias.
  const placeholder = t.out ? undefined : createTensor(ctx, 'group sparse out placeholder', [4]); // (4) f32, never written
  const map = planes ? uploadHeadMap(ctx, heads) : undefined;
  const steps: Step[] = [
    ...gi.copies,
    ...(kv16?.dispatches ?? []),
    ...st.dispatches,
    sparseFor(ctx, tc, gs, qq, kv16?.k ?? gi.k, kv16 ? kv16.v : gi.v, st.keys, { out: t.out, lse: t.lse, placeholder }, scale),
    ...scatter(heads, gs, gi.gathered, t, target),
    ...(planes && map ? [tokensPlanesDispatch(ctx, S, heads, map, st.s2.mask.buffer, st.windows, st.s1.scores.buffer, planes)] : []),
  ];
  return {
    steps,
    read: async () => {
      const stats = await readU32(ctx, st.s2.stats.buffer, heads.length * 2);
      const statsF = new Float32Array(stats.buffer);
      const list = await readU32(ctx, st.s2.keyList.buffer, heads.length * S);
      return heads.map((h, i): [number, SelectionPart] => [h, {
        variant: 'tokens',
        head: h,
        sampledRows: st.rows[i],
        selectedKeys: Array.from(list.subarray(i * S, i * S + stats[2 * i])),
        window: st.windowsHost[i],
        stage1Estimate: statsF[2 * i + 1],
      }]);
    },
    free: () => { destroySelectionStages(st); destroyAll(...t.own, placeholder, map, kv16?.k, kv16?.v, kv16?.q); gi.free(); },
  };
}

function blocksGroup(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, heads: number[], b: number, settings: readonly HeadSetting[], scale: number, tc: TensorCoreMode | undefined, target: SelectionTarget, planes?: MaskPlaneTensors): GroupPlan {
  const gi = groupInputs(ctx, shape, q, k, v, heads);
  const gs = gi.shape, S = gs.S, gh = heads.length;
  const ps = heads.map((h) => settings[h] as BlocksSetting);
  const rows = ps.map((p) => blocksSampledRows(S, b, p.rowRatio));
  const sr = uploadSampledRows(ctx, S, rows);
  const bs = createBlocksStages(ctx, gs, b, ps, rows.map((r) => r.length), sr.nMax);
  // The block-sparse kernel always writes an output: without v, k stands in for v and the
  // output goes to a scratch tensor nobody reads (only the lse is wanted then).
  const t = groupTarget(ctx, gs, gi.gathered, target, true);
  const tiles = createTensor(ctx, 'blocks tiles visited', [gh, ceilDiv(S, BLOCKS_BQ)]); // (gh, ceil(S/64)) u32, not read
  const map = planes ? uploadHeadMap(ctx, heads) : undefined;
  const outs = { out: t.out!, lse: t.lse, tiles };
  // On tensor cores the block-sparse pass reads f16 K / V; the stages' strip sums read f32 k.
  const kv16 = kvHalvesFor(ctx, tc, gi.k, gi.v);
  const steps: Step[] = [
    ...gi.copies,
    ...(kv16?.dispatches ?? []),
    ...blocksStagesFor(ctx, tc, gs, gi.q, gi.k, sr, b, bs, scale),
    blocksSparseFor(ctx, tc, gs, gi.q, kv16?.k ?? gi.k, kv16 ? kv16.v ?? kv16.k : gi.v ?? gi.k, b, bs.kept.buffer, outs, scale),
    ...scatter(heads, gs, gi.gathered, t, target),
    ...(planes && map ? [blocksPlanesDispatch(ctx, S, b, heads, map, bs.kept.buffer, bs.strips.buffer, planes)] : []),
  ];
  return {
    steps,
    read: async () => {
      const nb = bs.nb;
      const kept = await readU32(ctx, bs.kept.buffer, 2 * gh * nb);
      const stats = await readU32(ctx, bs.stats.buffer, 2 * gh * 2);
      const statsF = new Float32Array(stats.buffer);
      const on = (kind: number, i: number) => Array.from({ length: nb }, (_, x) => x).filter((x) => kept[(kind * gh + i) * nb + x] !== 0);
      return heads.map((h, i): [number, SelectionPart] => [h, {
        variant: 'blocks',
        head: h,
        blockSize: b,
        sampledRows: rows[i],
        columnBlocks: on(0, i),
        slashBands: on(1, i),
        stage1ColumnEstimate: statsF[2 * i + 1],
        stage1SlashEstimate: statsF[2 * (gh + i) + 1],
      }]);
    },
    free: () => { destroyBlocksStages(bs); destroyAll(sr.rows, sr.nRows, ...t.own, tiles, map, kv16?.k, kv16?.v); gi.free(); },
  };
}
