// Auto-tuning: per head, the lowest-density SampleAttention setting from a small grid whose recall
// meets a target on every text. The grid holds the tokens variant's (alpha, rowRatio, windowRatio)
// points, the blocks variant's (blockSize, alphaColumn, alphaSlash, rowRatio) points, or both
// (`variant`), so each head also picks its variant. Each grid point runs once per layer and text
// on the GPU engine (runSampleAttention: all heads of the layer in one call, one setting for all),
// and the choice per head is a pure function of the measures (chooseHead), so the rule can be
// tested on its own.
//
// The rule, stated: a setting qualifies for a head when, on EVERY text,
//   recallMean >= targetRecall   and (when minRowRecall is given)   recallP5 >= minRowRecall,
// i.e. at most 5% of the rows (nearest rank) fall below minRowRecall. Among qualifying settings
// the one with the lowest density (mean over texts) wins; ties go to the higher worst-text recall,
// then to the earlier grid point. The grid always ends with the full mask (gridPoints), which meets
// any target, so every head meets the rule; heads left with the full mask are named in the report.
// (Should none qualify all the same, say a recall rounding below a target of 1, the densest
// setting is used and the head is reported as not met.)
import type { TensorCoreMode } from '../../../gpu/tensorcore/support';
import type { GpuContext } from '../../../gpu/device';
import { destroyAll, uploadTensor, type Tensor } from '../../../gpu/tensor';
import { measuresOf, type HeadMeasures } from '../formats/config-file';
import { runSampleAttention } from '../gpu-run/layer-run';
import { PARAM_KEYS, validateParams, type SampleParams } from '../spec/params';
import { validateBlocksParams } from '../spec/blocks/params';
import { tokensSetting, type HeadSetting, type TokensSetting } from '../spec/setting';

/** Which variants' settings a grid tries. */
export type TuneVariant = 'tokens' | 'blocks' | 'both';
export const TUNE_VARIANTS: readonly TuneVariant[] = ['tokens', 'blocks', 'both'];

/** The blocks variant's grid. */
export interface BlocksTuneGrid {
  blockSize: number[];
  alphaColumn: number[];
  alphaSlash: number[];
  rowRatio: number[];
}

export interface TuneGrid {
  /** The tokens variant's grid. */
  alpha: number[];
  rowRatio: number[];
  windowRatio: number[];
  /** The blocks variant's grid; DEFAULT_BLOCKS_GRID when absent and `variant` asks for blocks. */
  blocks?: BlocksTuneGrid;
  /** Which variants' settings the grid tries; absent: tokens (the default of `sa-studio tune` and
   * of the studio's auto-tune). */
  variant?: TuneVariant;
}

/** 4 x 2 x 2 x 1 = 16 points: the spec's block sizes (16, 32, 64 for short texts, 128), each kind's
 * threshold at 0.9 and 0.95, the spec's rowRatio. Block sizes above S / 2 are left out at S tokens
 * (usableBlockSizes). */
export const DEFAULT_BLOCKS_GRID: BlocksTuneGrid = { blockSize: [16, 32, 64, 128], alphaColumn: [0.9, 0.95], alphaSlash: [0.9, 0.95], rowRatio: [0.05] };

/** The block sizes worth trying at S tokens: those giving at least two column blocks (b <= S / 2).
 * A larger b makes one block, which stage 2 always keeps: the full mask, already the grid's last. */
export const usableBlockSizes = (sizes: readonly number[], S: number): number[] => sizes.filter((b) => 2 * b <= S);

/** 4 x 2 x 5 = 40 points: small enough for SwiftShader at a few hundred tokens; the window list
 * reaches 0.32 so heads that need a wide window find one before the fallback. */
export const DEFAULT_GRID: TuneGrid = { alpha: [0.8, 0.9, 0.95, 0.98], rowRatio: [0.05, 0.1], windowRatio: [0, 0.04, 0.08, 0.16, 0.32] };

export interface TuneRule {
  targetRecall: number;
  minRowRecall?: number;
}

export function ruleText(r: TuneRule): string {
  return `recallMean >= ${r.targetRecall}${r.minRowRecall !== undefined ? ` and recallP5 >= ${r.minRowRecall}` : ''} on every text`;
}

export function checkRule(r: TuneRule): void {
  if (!(r.targetRecall > 0 && r.targetRecall <= 1)) throw new RangeError(`target recall must be in (0, 1], got ${r.targetRecall}.`);
  if (r.minRowRecall !== undefined && !(r.minRowRecall >= 0 && r.minRowRecall <= 1)) throw new RangeError(`minimum row recall must be in [0, 1], got ${r.minRowRecall}.`);
}

/** Every setting of the grid: the tokens points (alpha outermost), then the blocks points
 * (blockSize outermost, sizes above S / 2 left out), then the full mask; each validated. S is the
 * shortest text's length (every point must run on every text). */
export function gridPoints(g: TuneGrid, S = Infinity): HeadSetting[] {
  const variant = g.variant ?? 'tokens';
  const out: HeadSetting[] = [];
  if (variant !== 'blocks') {
    for (const name of PARAM_KEYS) {
      if (!Array.isArray(g[name]) || g[name].length === 0) throw new RangeError(`tuning grid: ${name} needs at least one value.`);
    }
    for (const alpha of g.alpha) for (const rowRatio of g.rowRatio) for (const windowRatio of g.windowRatio) {
      const p = { alpha, rowRatio, windowRatio };
      validateParams(p);
      out.push(tokensSetting(p));
    }
  }
  if (variant !== 'tokens') {
    const b = g.blocks ?? DEFAULT_BLOCKS_GRID;
    for (const name of ['blockSize', 'alphaColumn', 'alphaSlash', 'rowRatio'] as const) {
      if (!Array.isArray(b[name]) || b[name].length === 0) throw new RangeError(`tuning grid: blocks ${name} needs at least one value.`);
    }
    for (const blockSize of usableBlockSizes(b.blockSize, S)) for (const alphaColumn of b.alphaColumn) for (const alphaSlash of b.alphaSlash) for (const rowRatio of b.rowRatio) {
      const p = { blockSize, alphaColumn, alphaSlash, rowRatio };
      validateBlocksParams(p);
      out.push({ variant: 'blocks', ...p });
    }
  }
  // Tune's promise: every head of the written config meets the target. The full mask (a window of
  // the whole sequence: recall 1, density 1) meets any target, so the grid always ends with it. It
  // is written as a tokens head with windowRatio 1 whatever the variants tried: the same mask in
  // either variant, and the cheapest way to run it.
  if (!out.some(isFullMask)) out.push(FULL_MASK(g));
  return out;
}

/** The full causal mask as a SampleAttention setting: windowRatio 1 keeps every key. */
export const FULL_MASK = (g: TuneGrid): TokensSetting => tokensSetting({ alpha: Math.max(...(g.alpha.length ? g.alpha : [1])), rowRatio: Math.min(...(g.rowRatio.length ? g.rowRatio : [0.05])), windowRatio: 1 });

/** A setting whose mask is the full causal mask whatever the text (a tokens window of all of S). */
export const isFullMask = (s: HeadSetting | SampleParams): boolean => (s as { variant?: string }).variant !== 'blocks' && (s as SampleParams).windowRatio >= 1;

/** Heads whose choice is the full mask: no sparse setting of the grid reached the target. */
export const fullMaskHeads = <P extends HeadSetting | SampleParams>(choices: readonly (readonly HeadChoice<P>[])[]): string[] =>
  choices.flatMap((l, li) => l.flatMap((c, h) => (isFullMask(c.params) ? [`${li}:${h}`] : [])));

/** How many heads chose each kind of setting: tokens, blocks, and the full mask (written as a
 * tokens head, counted apart). `sa-studio tune`'s report and the studio's both say it. */
export function variantCounts(choices: readonly (readonly HeadChoice[])[]): { tokens: number; blocks: number; full: number } {
  const all = choices.flat();
  const blocks = all.filter((c) => c.params.variant === 'blocks').length, full = all.filter((c) => isFullMask(c.params)).length;
  return { tokens: all.length - blocks - full, blocks, full };
}

/** "12 heads tokens, 4 blocks, 0 the full mask". */
export const variantCountsText = (n: ReturnType<typeof variantCounts>): string => `${n.tokens} heads tokens, ${n.blocks} blocks, ${n.full} the full mask`;

/** `P`: the grid's points (HeadSetting). */
export interface HeadChoice<P = HeadSetting> {
  /** Index into the grid points. */
  point: number;
  params: P;
  /** Whether the rule held; false means the densest fallback. */
  met: boolean;
  /** Over texts: the lowest mean recall, the lowest P5, the mean density. */
  worstRecallMean: number;
  worstRecallP5: number;
  meanDensity: number;
}

/** The choice for one head. m[text][point] are the head's measures; the points may be of any
 * variant (the rule reads only the measures). */
export function chooseHead<P extends object>(points: readonly P[], m: readonly (readonly HeadMeasures[])[], rule: TuneRule): HeadChoice<P> {
  checkRule(rule);
  if (m.length === 0) throw new RangeError('chooseHead: no texts measured.');
  for (const t of m) if (t.length !== points.length) throw new RangeError(`chooseHead: ${t.length} measures for ${points.length} grid points.`);
  const summary = points.map((_, p) => ({
    p,
    worstRecallMean: Math.min(...m.map((t) => t[p].recallMean)),
    worstRecallP5: Math.min(...m.map((t) => t[p].recallP5)),
    meanDensity: m.reduce((a, t) => a + t[p].density, 0) / m.length,
  }));
  const ok = summary.filter((s) => s.worstRecallMean >= rule.targetRecall && (rule.minRowRecall === undefined || s.worstRecallP5 >= rule.minRowRecall));
  const met = ok.length > 0;
  const pool = met ? ok : summary;
  const best = pool.reduce((a, b) => {
    const dd = met ? b.meanDensity - a.meanDensity : a.meanDensity - b.meanDensity; // met: lowest; fallback: highest
    if (dd < 0) return b;
    if (dd > 0) return a;
    return b.worstRecallMean > a.worstRecallMean ? b : a;
  });
  return { point: best.p, params: { ...points[best.p] }, met, worstRecallMean: best.worstRecallMean, worstRecallP5: best.worstRecallP5, meanDensity: best.meanDensity };
}

export interface LayerCapture {
  S: number;
  /** (heads, S, d) post-RoPE, on the host (uploaded here) or already on the GPU (the studio's). */
  q: Float32Array | Tensor;
  /** (kvHeads, S, d) post-RoPE */
  k: Float32Array | Tensor;
  /** (heads, S) f32: the prefill's dense log-sum-exp, when it kept it (saves the dense pass). */
  lse?: Tensor;
}

export interface HeadShape {
  heads: number;
  kvHeads: number;
  headDim: number;
  /** How SampleAttention's kernels run: on tensor cores (f16) when set, f32 otherwise. */
  tensorCores?: TensorCoreMode;
}

/** A model's attention shape as the GPU run wants it. */
export const headShape = (c: { numHeads: number; numKvHeads: number; headDim: number }): HeadShape => ({ heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim });

/** measures[point][head] of one layer on one text: one GPU call per grid point, every head in it. */
export async function measureGrid(ctx: GpuContext, shape: HeadShape, cap: LayerCapture, points: readonly HeadSetting[], onPoint?: (done: number, of: number) => void): Promise<HeadMeasures[][]> {
  const { heads, kvHeads, headDim: d } = shape;
  const { S } = cap;
  const values = (x: Float32Array | Tensor) => (x instanceof Float32Array ? x.length : x.shape.reduce((a, b) => a * b, 1));
  if (values(cap.q) !== heads * S * d || values(cap.k) !== kvHeads * S * d) {
    throw new RangeError(`measureGrid: q has ${values(cap.q)} and k ${values(cap.k)} values; (heads, kvHeads, S, d) = (${heads}, ${kvHeads}, ${S}, ${d}) needs ${heads * S * d} and ${kvHeads * S * d}.`);
  }
  // Host captures are uploaded for the grid and freed after it; GPU ones are the caller's.
  const q = cap.q instanceof Float32Array ? uploadTensor(ctx, 'tune q', [heads, S, d], cap.q) : null; // (heads, S, d) f32
  const k = cap.k instanceof Float32Array ? uploadTensor(ctx, 'tune k', [kvHeads, S, d], cap.k) : null; // (kvHeads, S, d) f32
  try {
    const out: HeadMeasures[][] = [];
    for (let p = 0; p < points.length; p++) {
      const r = await runSampleAttention(ctx, { q: q ?? (cap.q as Tensor), k: k ?? (cap.k as Tensor), heads, kvHeads, S, d, params: points[p], denseLse: cap.lse, tensorCores: shape.tensorCores });
      r.dispose();
      out.push(r.heads.map(measuresOf));
      onPoint?.(p + 1, points.length);
    }
    return out;
  } finally {
    destroyAll(q ?? undefined, k ?? undefined);
  }
}

export interface LayerTune {
  choices: HeadChoice[];
  /** The chosen setting's measures on each text, [text][head]. */
  measured: HeadMeasures[][];
}

/** One layer: the grid on every text's capture, then each head's choice. */
export async function tuneLayer(ctx: GpuContext, shape: HeadShape, caps: readonly LayerCapture[], points: readonly HeadSetting[], rule: TuneRule, onPoint?: (text: number, done: number, of: number) => void): Promise<LayerTune> {
  checkRule(rule);
  const perText: HeadMeasures[][][] = []; // [text][point][head]
  for (let t = 0; t < caps.length; t++) perText.push(await measureGrid(ctx, shape, caps[t], points, (done, of) => onPoint?.(t, done, of)));
  const choices = Array.from({ length: shape.heads }, (_, h) => chooseHead(points, perText.map((t) => t.map((pt) => pt[h])), rule));
  return { choices, measured: perText.map((t) => choices.map((c, h) => t[c.point][h])) };
}

export interface TuneReport<P = HeadSetting> {
  rule: TuneRule;
  grid: TuneGrid;
  /** Tokens of the first text (the one a config records). */
  tokens: number;
  /** [layer][head]: the chosen setting (its variant included) and whether it met the rule. */
  choices: HeadChoice<P>[][];
  /** [layer][head]: the chosen setting's measures on the first text. */
  measured: HeadMeasures[][];
}

/** Layers handed over one at a time (a capture file read layer by layer, so a long capture is
 * never on the host whole): `layer(l)` gives layer l's captures on every text, [text]. */
export interface LayerSource {
  count: number;
  /** Tokens of the shortest text: the length the grid is made for (tuneLength). */
  S: number;
  layer(l: number): Promise<readonly LayerCapture[]>;
}

/** The whole model, the one home of tune's layer loop: caps[layer][text] are every layer's q/k on
 * every text, held (a forward's capture) or read per layer (a LayerSource); `onPoint(layer, text,
 * done, of)` after each grid point (throw there to cancel). `sa-studio tune` (with --model or
 * --qk) and the studio's auto-tune (either variant, or both) all call this. */
export async function tuneModel(ctx: GpuContext, shape: HeadShape, caps: readonly (readonly LayerCapture[])[] | LayerSource, rule: TuneRule, grid: TuneGrid, onPoint?: (layer: number, text: number, done: number, of: number) => void): Promise<TuneReport> {
  checkRule(rule);
  const points = gridPoints(grid, tuneLength(caps));
  const choices: HeadChoice[][] = [];
  const measured: HeadMeasures[][] = [];
  const source: LayerSource = 'layer' in caps ? caps : { count: caps.length, S: tuneLength(caps), layer: async (l) => caps[l] };
  let tokens = 0;
  for (let l = 0; l < source.count; l++) {
    const layer = await source.layer(l);
    if (l === 0) tokens = layer[0]?.S ?? 0;
    const r = await tuneLayer(ctx, shape, layer, points, rule, (t, done, of) => onPoint?.(l, t, done, of));
    choices.push(r.choices);
    measured.push(r.measured[0]);
  }
  return { rule, grid, tokens, choices, measured };
}

/** The length the grid is made for: the shortest text (every point runs on every text). */
export const tuneLength = (caps: readonly (readonly LayerCapture[])[] | LayerSource): number => ('layer' in caps ? caps.S : Math.min(...(caps[0] ?? []).map((c) => c.S)));
