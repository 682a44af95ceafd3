// The tensor-core attention kernel (flash.wgsl): its `attend` entry for every attention mode
// (dense, sparse, stage 1's rows, blocks) and its `column_sums` entry (stage 1's column scores),
// with K / V tiles as packed halves, the next tiles prefetched into registers, and two barrier
// points a tile; shapes, their workgroup memory and the WGSL generator. attention.ts launches them.
import type { GpuContext } from '../device';
import { blockedLoad, blockedStoreAcc, matrixPrimitives } from './primitives';
import type { TensorCoreMode } from './support';
import flashWgsl from './flash.wgsl';
import tilesWgsl from '../attention/tiles.wgsl';
import blocksMaskWgsl from '../sample/blocks-mask.wgsl';
import { ROW_SPLITS_MAX } from '../sample/stage1';

export type FlashMode = 'dense' | 'sparse' | 'rows' | 'blocks';
/** The module's entry points: attention rows (every mode), or stage 1's column scores. */
export type FlashEntry = 'attend' | 'column_sums';
const MODE_ID: Record<FlashMode, number> = { dense: 0, sparse: 1, rows: 2, blocks: 3 };

/** NSG subgroups of 16 query rows each (BQ = 16 NSG rows a workgroup), BKT keys a tile. (32 rows
 * a subgroup, in commit 653b7bd, 16-key tiles on 8 and 16 subgroups, and two K / V buffers, in
 * commit dc27caf, were tried on the H200 and lost at d 64 and d 128; docs/benchmarks.md.) */
export interface FlashShape {
  nsg: 4 | 8;
  bkt: 32 | 64;
}

/** "8x32": subgroups x keys a tile. */
export const flashShapeName = (s: FlashShape): string => `${s.nsg}x${s.bkt}`;

/** Query rows a workgroup owns. */
export const flashRows = (s: FlashShape): number => 16 * s.nsg;

/** Workgroup bytes of flash.wgsl's arrays for one entry (each rounded up to 16 bytes) and,
 * emulated, the primitives' two f16 scratch matrices per subgroup: attend uses sK, sV, sS, sP,
 * sCorr, sJ and a flag; column_sums uses sQ, sK, sS and the two row arrays. */
export function flashWorkgroupBytes(d: number, s: FlashShape, tc: TensorCoreMode, withV = true, entry: FlashEntry = 'attend'): number {
  const DP = Math.ceil(d / 16) * 16, KSV = DP / 8 + 1, BQ = flashRows(s);
  const r16 = (n: number) => Math.ceil(n / 16) * 16;
  const arrays = entry === 'attend'
    ? [s.bkt * KSV * 16, withV ? s.bkt * KSV * 16 : 16, BQ * (s.bkt + 4) * 4, BQ * (s.bkt + 8) * 2, BQ * 4, 4 * s.bkt * 4, 4]
    : [BQ * KSV * 16, s.bkt * KSV * 16, BQ * (s.bkt + 4) * 4, 2 * BQ * 4, 2 * BQ * 4];
  const emulation = tc === 'emulated' ? [2 * s.nsg * 256 * 2] : [];
  return [...arrays, ...emulation].reduce((a, n) => a + r16(n), 0);
}

/** The default shape for head dimension d in this mode: the `blocks` pass keeps the f32 kernel's
 * 64 x 32 tiles (both report the same tiles visited); otherwise the fastest on the H200 where it
 * fits in the adapter's workgroup memory: above d 32, 128 rows x 32 keys (8 subgroups share each
 * K / V tile; 21.96 ms at S 32768, d 64, 8 heads, against 25.36 for 64 x 32 and 42.60 for 64 x 64,
 * whose 64-key softmax rows cost more than the wider tile saves; docs/benchmarks.md), then 64 x 32,
 * then 64 x 64; at d <= 32, 64 x 32 first (below). */
export function flashShape(ctx: GpuContext, d: number, mode: FlashMode, tc: TensorCoreMode, entry: FlashEntry = 'attend'): FlashShape {
  if (mode === 'blocks') return { nsg: 4, bkt: 32 };
  // Column sums: 64 rows x 32 keys first (2.16 ms at S 32768, d 64, 8 heads, 5% rows, against
  // 2.69 at 128 x 32 and 3.34 at 64 x 64; same call as above).
  // Attention at d <= 32 (the default model): 64 x 32 first (real heads of its layer 3 at S
  // 32768: dense 13.52 ms against 15.22 at 128 x 32 and 19.71 at 64 x 64; sparse 12.73 against
  // 13.95; log h200-ab3.log): with products this short, more workgroups a multiprocessor beat
  // sharing a K / V tile over 128 rows.
  const candidates: FlashShape[] = entry === 'column_sums' || d <= 32
    ? [{ nsg: 4, bkt: 32 }, { nsg: 8, bkt: 32 }, { nsg: 4, bkt: 64 }]
    : [{ nsg: 8, bkt: 32 }, { nsg: 4, bkt: 32 }, { nsg: 4, bkt: 64 }];
  for (const s of candidates) if (!flashUnfit(ctx, d, s, tc, mode !== 'rows', entry)) return s;
  throw new Error(`tensor-core attention: head dimension ${d} needs ${flashWorkgroupBytes(d, { nsg: 4, bkt: 32 }, tc, mode !== 'rows', entry)} bytes of workgroup memory at the smallest tile; this adapter offers ${ctx.device.limits.maxComputeWorkgroupStorageSize}. Use --precision f32.`);
}

/** Why this shape cannot run for head dimension d here, or null. */
export function flashUnfit(ctx: GpuContext, d: number, s: FlashShape, tc: TensorCoreMode, withV = true, entry: FlashEntry = 'attend'): string | null {
  if (!(s.nsg === 4 || s.nsg === 8) || !(s.bkt === 32 || s.bkt === 64)) return `bad shape ${JSON.stringify(s)} (nsg 4 or 8, bkt 32 or 64)`;
  const bytes = flashWorkgroupBytes(d, s, tc, withV, entry), max = ctx.device.limits.maxComputeWorkgroupStorageSize;
  if (bytes > max) return `${bytes} bytes of workgroup memory exceed the adapter's ${max}`;
  if (32 * s.nsg > ctx.device.limits.maxComputeInvocationsPerWorkgroup) return `${32 * s.nsg} threads exceed the adapter's ${ctx.device.limits.maxComputeInvocationsPerWorkgroup}`;
  return null;
}

const WINDOW_LINES = /^@group\(0\) @binding\(5\) var<storage, read> win: array<u32>;.*\nfn window_of\(h: u32\) -> u32 \{ return win\[h\]; \}.*$/m;
const TILES_LINES = [
  '@group(0) @binding(5) var<storage, read_write> win: array<u32>; // MODE 3: (heads, ceil(S / BQ)) key tiles each query tile visited',
  'fn window_of(h: u32) -> u32 { return 1u; }',
].join('\n');

/** The tile walk of gpu/attention/tiles.wgsl; MODE 3 turns binding 5 into its tiles-visited output
 * (read_write: no other binding is free within 8 storage buffers). */
function tileWalk(mode: FlashMode): string {
  if (mode !== 'blocks') return tilesWgsl;
  if (!WINDOW_LINES.test(tilesWgsl)) throw new Error('tensor-core attention: gpu/attention/tiles.wgsl no longer declares binding 5 and window_of as the kernels expect.');
  return tilesWgsl.replace(WINDOW_LINES, TILES_LINES);
}

/** Element type of q, or of K and V, in storage: f16 (packed halves, read as they are) or f32
 * (rounded to f16 as each tile is staged). */
export type KvType = 'f32' | 'f16';

/** q, k, v bindings and their loaders q8 / k8 / v8: 8 dims as packed halves, one 16-byte load of
 * f16 (whose d must be a multiple of 8), or f32 loads (vec4 when d % 4 == 0) rounded. */
function qkvBindings(d: number, qt: KvType, kv: KvType): { bindings: string; loaders: string } {
  const vec = d % 4 === 0;
  const binding = (b: string, i: number, t: KvType) => t === 'f16'
    ? `@group(0) @binding(${i}) var<storage, read> ${b}: array<vec4<u32>>; // (heads | kvHeads, S, D / 8) packed halves`
    : vec
      ? `@group(0) @binding(${i}) var<storage, read> ${b}: array<vec4<f32>>; // (heads | kvHeads, S, D / 4)`
      : `@group(0) @binding(${i}) var<storage, read> ${b}: array<f32>; // (heads | kvHeads, S, D)`;
  const loader4 = (name: string) => vec
    ? `fn ${name}4(hh: u32, row: u32, c: u32) -> vec4<f32> { if (c >= D) { return vec4<f32>(0.0); } return ${name}[((hh * p.S + row) * D + c) / 4u]; }`
    : `fn ${name}4(hh: u32, row: u32, c: u32) -> vec4<f32> { var x = vec4<f32>(0.0); for (var e = 0u; e < 4u; e++) { if (c + e < D) { x[e] = ${name}[(hh * p.S + row) * D + c + e]; } } return x; }`;
  const loader8 = (name: string, t: KvType) => t === 'f16'
    ? `fn ${name}8(hh: u32, row: u32, c: u32) -> vec4<u32> { if (c >= D) { return vec4<u32>(0u); } return ${name}[((hh * p.S + row) * D + c) / 8u]; }`
    : [loader4(name), `fn ${name}8(hh: u32, row: u32, c: u32) -> vec4<u32> { return pack8(${name}4(hh, row, c), ${name}4(hh, row, c + 4u)); }`].join('\n');
  return {
    bindings: [binding('q', 0, qt), binding('k', 1, kv), binding('v', 2, kv)].join('\n'),
    loaders: [loader8('q', qt), loader8('k', kv), loader8('v', kv)].join('\n'),
  };
}

/** Key ranges that split each block of stage 1's sampled rows (MODE 2) over workgroups: one per
 * 64 key tiles, at most ROW_SPLITS_MAX. At S 32768 with 32-key tiles that is 8, so 13 blocks x 8
 * heads give 832 workgroups instead of 104, which left most of the H200's 132 multiprocessors idle. */
export function rowSplits(S: number, s: FlashShape): number {
  return Math.max(1, Math.min(ROW_SPLITS_MAX, Math.floor(Math.ceil(S / s.bkt) / 64)));
}

/** splits: MODE 2's key ranges (rowSplits); 1 elsewhere. kv, qt: how K and V, and q, are stored. */
export function flashSource(d: number, mode: FlashMode, withV: boolean, tc: TensorCoreMode, s: FlashShape, splits = 1, kv: KvType = 'f32', qt: KvType = 'f32'): string {
  if ((kv === 'f16' || qt === 'f16') && d % 8 !== 0) throw new RangeError(`tensor-core attention: f16 q / K / V need a head dimension that is a multiple of 8 (whole 16-byte chunks); d is ${d}. Give them as f32.`);
  if (!Number.isInteger(splits) || splits < 1 || splits > ROW_SPLITS_MAX || (splits > 1 && mode !== 'rows')) throw new RangeError(`tensor-core attention: ${splits} key splits (1 .. ${ROW_SPLITS_MAX}, more than 1 only for stage 1's rows).`);
  const DP = Math.ceil(d / 16) * 16, DV = DP / 8, KSV = DV + 1;
  const { bkt } = s;
  // Rows of sS and sP in 16-byte elements, padded by one (4 f32 or 8 f16) against bank conflicts.
  const SSV = bkt / 4 + 1, PSV = bkt / 8 + 1;
  const hk = bkt / 2; // keys of a tile each thread of a row's pair holds (keys half * hk ..)
  const em = tc === 'emulated';
  // Matrix loads and stores name a block (sK / sV: their one block 0; sS, sP, sQ: the subgroup's
  // 16 rows) and constant offsets and strides (primitives.ts, `blocked`).
  const ld = (arr: string, use: 'left' | 'right' | 'right_t' | 'acc', blk: string, off: number, stride: number) => blockedLoad(em, arr, use, blk, off, stride);
  const st = (arr: string, blk: string, m: string, off: number, stride: number) => blockedStoreAcc(em, arr, blk, m, off, stride);
  const nd = DP / 16, nk = bkt / 16;
  const rep = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
  // Q: chunk cc holds dims cc * bkt ..; matrix c (dims 16 c ..) is read from its chunk.
  const chunks = Math.ceil(DP / bkt);
  const stageQ = rep(chunks, (cc) => [
    cc > 0 ? '  workgroupBarrier();' : '',
    `  stage_q_chunk(h, q0, lid, ${cc * bkt}u);`,
    '  workgroupBarrier();',
    rep(nd, (c) => (Math.floor((16 * c) / bkt) === cc ? `  let qL${c} = ${ld('sP', 'left', 'sg', (16 * c - cc * bkt) / 8, PSV)};` : '')),
  ].join('\n'));
  // sS and sP offsets and strides count 16-byte elements (SSV, PSV a row); the per-subgroup
  // 16 x 16 f32 scratch is 64 of them.
  const qk = rep(nk, (n) => [
    `    var sA${n} = acc_zero();`,
    rep(nd, (c) => `    sA${n} = mma(qL${c}, ${ld('sK', 'right_t', '0u', 16 * n * KSV + 2 * c, KSV)}, sA${n});`),
    `    ${st('sS', 'sg', `sA${n}`, 4 * n, SSV)}`,
  ].join('\n'));
  const rescale = rep(nd, (n) => `        ${st('sS', 'sg', `oA${n}`, 0, 4)}\n        workgroupBarrier();\n        scale_scratch(sg, lane);\n        workgroupBarrier();\n        oA${n} = ${ld('sS', 'acc', 'sg', 0, 4)};\n        workgroupBarrier();`);
  const pv = rep(nk, (u) => [
    `      let pL${u} = ${ld('sP', 'left', 'sg', 2 * u, PSV)};`,
    rep(nd, (n) => `      oA${n} = mma(pL${u}, ${ld('sV', 'right', '0u', 16 * u * KSV + 2 * n, KSV)}, oA${n});`),
  ].join('\n'));
  const store = rep(nd, (n) => `    ${st('sS', 'sg', `oA${n}`, 0, 4)}\n    workgroupBarrier();\n    write_out(h, i, sg, lane, ${16 * n}u, l);\n    workgroupBarrier();`);
  // Column sums: the workgroup's K tile stays in registers (right operands, loaded once); each
  // block's Q rows are loaded once per 16 dimensions.
  const csK = rep(nk, (n) => rep(nd, (c) => `  let kR${n}_${c} = ${ld('sK', 'right_t', '0u', 16 * n * KSV + 2 * c, KSV)};`));
  const csQk = [
    rep(nk, (n) => `    var sA${n} = acc_zero();`),
    rep(nd, (c) => [
      `    { let qL = ${ld('sQ', 'left', 'sg', 2 * c, KSV)};`,
      rep(nk, (n) => `      sA${n} = mma(qL, kR${n}_${c}, sA${n});`),
      '    }',
    ].join('\n')),
    rep(nk, (n) => `    ${st('sS', 'sg', `sA${n}`, 4 * n, SSV)}`),
  ].join('\n');
  // The softmax of thread (r, half) over keys u = half * hk + uu, unrolled so the scores stay in
  // registers: read 4 at a time (vec4 v{k} holds keys half * hk + 4 k ..), probabilities written
  // 8 at a time as packed halves. A tile every key of which every row of the block keeps (below
  // the diagonal, dense or stage 1's rows) skips the mask.
  const scores = [
    rep(hk / 4, (k) => `    let v${k} = sS[r / 16u][(r % 16u) * SSV + half * ${hk / 4}u + ${k}u];`),
    rep(hk, (uu) => `    var s${uu}: f32;`),
    '    if (full) {',
    rep(hk, (uu) => `      s${uu} = v${uu >> 2}[${uu & 3}] * sc2;`),
    '    } else {',
    rep(hk, (uu) => `      s${uu} = masked_score(h, t, half * ${hk}u + ${uu}u, i, pl, bh, kb, tm, v${uu >> 2}[${uu & 3}]);`),
    '    }',
    rep(hk, (uu) => `    tmax = max(tmax, s${uu});`),
  ].join('\n');
  const probs = [
    // A full tile's scores are all finite and so is m: no masked entry to zero.
    rep(hk, (uu) => `    var pr${uu}: f32;`),
    '    if (full) {',
    rep(hk, (uu) => `      pr${uu} = exp2(s${uu} - m);`),
    '    } else {',
    rep(hk, (uu) => `      pr${uu} = select(0.0, exp2(s${uu} - m), s${uu} > HALF_NEG);`),
    '    }',
    rep(hk, (uu) => `    l += pr${uu};`),
    '    if (WITH_V) {',
    rep(hk / 8, (q) => {
      const e = (o: number) => `pr${8 * q + o}`;
      return `      sP[r / 16u][(r % 16u) * PSV + half * ${hk / 8}u + ${q}u] = pack8(vec4<f32>(${[0, 1, 2, 3].map(e).join(', ')}), vec4<f32>(${[4, 5, 6, 7].map(e).join(', ')}));`;
    }),
    '    }',
  ].join('\n');
  // One tile's K or V chunks of this thread from storage into registers (rk, rv): the first
  // prefetch and each tile's next, written once here.
  const loadRegs = (isV: boolean) => (_: string, tile: string) => isV && !withV ? '' : [
    '  for (var x = 0u; x < KV_PER; x++) {',
    '    let e = lid + x * NT;',
    `    if (e < BKT * DV && ${tile} < pl.nTiles) { r${isV ? 'v' : 'k'}[x] = kv_chunk(g, h, ${tile}, e, pl, ${isV}); }`,
    '  }',
  ].join('\n');
  const { bindings, loaders } = qkvBindings(d, qt, kv);
  const body = flashWgsl
    .replace(/^\/\/@LOAD_K\((\w+)\)$/gm, loadRegs(false))
    .replace(/^\/\/@LOAD_V\((\w+)\)$/gm, loadRegs(true))
    .replace('//@BINDINGS_QKV', bindings)
    .replace('//@LOADERS', loaders)
    .replace('//@STAGE_Q', stageQ + (withV ? '\n' + rep(nd, (n) => `  var oA${n} = acc_zero();`) : ''))
    .replace('//@QK', qk)
    .replace('//@SCORES', scores)
    .replace('//@PROBS', probs)
    .replace('//@CS_K', csK)
    .replace('//@CS_QK', csQk)
    .replace('//@RESCALE_O', withV ? rescale : '')
    .replace('//@PV', withV ? pv : '')
    .replace('//@STORE_O', withV ? store : '')
    .replace('//@RECORD_TILES', mode === 'blocks' ? '  if (lid == 0u) { win[h * nwg.x + q0 / BQ] = visited; }' : '');
  const consts = [
    `const D: u32 = ${d}u;`, `const DP: u32 = ${DP}u;`, `const DV: u32 = ${DV}u;`, `const KSV: u32 = ${KSV}u;`,
    `const BKT: u32 = ${bkt}u;`, `const SSV: u32 = ${SSV}u;`, `const PSV: u32 = ${PSV}u;`, `const NSG: u32 = ${s.nsg}u;`,
    `const SV_LEN: u32 = ${withV ? bkt * KSV : 1}u;`, `const MODE: u32 = ${MODE_ID[mode]}u;`, `const WITH_V: bool = ${withV};`,
    `const SPLIT: u32 = ${splits}u;`,
  ];
  const prims = matrixPrimitives({
    emulate: tc === 'emulated',
    subgroups: s.nsg,
    arrays: [
      { name: 'sQ', elem: 'f16x8', uses: ['left'], blocked: true },
      { name: 'sK', elem: 'f16x8', uses: ['right_t'], blocked: true },
      { name: 'sV', elem: 'f16x8', uses: withV ? ['right'] : [], blocked: true },
      { name: 'sP', elem: 'f16x8', uses: ['left'], blocked: true },
      { name: 'sS', elem: 'f32x4', uses: ['acc'], blocked: true },
    ],
  });
  return [prims, ...consts, body, tileWalk(mode), blocksMaskWgsl].join('\n');
}
