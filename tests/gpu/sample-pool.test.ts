// The pooling kernel (gpu/sample/pool.wgsl) alone, over whole maps and viewports, against the
// float64 reference poolViewportReference (src/engine/pool-cpu.ts) fed the exact P rows
// (src/sampleattention/spec/reference.ts). Awkward sizes: S not a multiple of any tile or block, viewports not
// aligned to anything, one that straddles the diagonal, one wholly above it (all masked: zeros),
// one token, and block 1 (exact, one cell per token). The kernel walks a cell in 64 x 64 sub-tiles
// and stages D in chunks (poolDimChunk): blocks larger than a sub-tile (several sub-tiles a side,
// the last one partial, some skipped above the diagonal), d = 8 (one chunk), 40 and 128 (several
// chunks on adapters with less than ~34 KiB of workgroup memory), GQA. The
// output is NaN-poisoned before every run, so a cell the kernel never writes fails the comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { destroyAll, readTensor, uploadTensor } from '../../gpu/tensor';
import { destroyMaskPlanes, uploadMaskPlanes } from '../../gpu/sample/mask-planes';
import { layerPlaneArrays, tokensPlanes } from '../../src/sampleattention/spec/mask-planes';
import { createPooled, poolDimChunk, poolDispatch, poolGrid, POOL_PLANES, type PoolViewport } from '../../gpu/sample/pool';
import { poolViewportReference } from '../../src/engine/pool-cpu';
import { attentionRow, denseAttention, headView, inMask, keySetOf, kvHeadOf } from '../../src/sampleattention/spec/reference';
import { freshSeed, gpu, rng } from '../helpers/gpu';
import { attentionInputs } from './sample-inputs';

// max P, sum P and missed mass: f32 sums of <= block^2 probabilities, each ~1e-7 relative from the
// d-term f32 dot and exp, plus the f32 rounding of the lse input (~5e-7 relative): 1e-5 absolute.
// Exact cells (block 1) hold one P each: also within 2e-5 relative where P > 1e-6.
// Sum P and missed mass of a large cell (block > 32: up to ~block, one per row) also carry the f32
// rounding of the sum itself and the per-row lse rounding, both relative: the worst case
// ((block^2 / 64 per-thread terms + 6 tree levels) * 6e-8, ~2e-5 at block 150) is far above what
// happens; 5e-6 of the value on top of the absolute 1e-5.
// Kept fraction: a ratio of exact counts, 1e-6.
const TOL = 1e-5;
const SUM_REL_TOL = 5e-6;
const REL_TOL = 2e-5;
const FRACTION_TOL = 1e-6;

interface Case { heads: number; kvHeads: number; S: number; d: number; pattern: 'random' | 'structured'; views: { B: number; viewport?: PoolViewport; what: string }[] }
const cases: Case[] = [
  {
    heads: 4, kvHeads: 2, S: 77, d: 24, pattern: 'random',
    views: [
      { B: 10, what: 'whole map, block 8, last cells clipped' },
      { B: 8, viewport: { r0: 13, r1: 58, c0: 5, c1: 41 }, what: 'unaligned viewport, block 6' },
      { B: 64, viewport: { r0: 30, r1: 47, c0: 21, c1: 52 }, what: 'straddles the diagonal, block 1 (exact)' },
      { B: 7, viewport: { r0: 0, r1: 20, c0: 40, c1: 77 }, what: 'wholly above the diagonal: all masked' },
      { B: 3, viewport: { r0: 76, r1: 77, c0: 76, c1: 77 }, what: 'one token on the diagonal' },
      { B: 5, viewport: { r0: 3, r1: 74, c0: 0, c1: 2 }, what: 'two key columns, block 15' },
    ],
  },
  {
    heads: 2, kvHeads: 1, S: 203, d: 40, pattern: 'structured',
    views: [
      { B: 512, what: 'whole map at block 1 (exact)' },
      { B: 37, what: 'whole map, block 6, last cells clipped' },
      { B: 440, viewport: { r0: 117, r1: 190, c0: 99, c1: 172 }, what: 'zoomed viewport, block 1 (exact)' },
      { B: 13, viewport: { r0: 150, r1: 203, c0: 100, c1: 203 }, what: 'bottom-right corner, block 8' },
      { B: 2, what: 'whole map, block 102: four sub-tiles a side, the last partial' },
    ],
  },
  {
    heads: 4, kvHeads: 2, S: 300, d: 8, pattern: 'random',
    views: [
      { B: 2, what: 'whole map, block 150: five sub-tiles a side, the last partial, the diagonal cells half skipped' },
      { B: 3, viewport: { r0: 37, r1: 291, c0: 11, c1: 250 }, what: 'unaligned viewport, block 85, clipped' },
      { B: 1, viewport: { r0: 70, r1: 299, c0: 5, c1: 77 }, what: 'one cell of 229 rows by 72 keys, not a square' },
      { B: 6, viewport: { r0: 250, r1: 270, c0: 253, c1: 265 }, what: 'small viewport across the diagonal, block 4' },
    ],
  },
  {
    heads: 2, kvHeads: 2, S: 150, d: 128, pattern: 'structured',
    views: [
      { B: 1, what: 'whole map in one cell, block 150' },
      { B: 4, what: 'whole map, block 38' },
      { B: 64, viewport: { r0: 60, r1: 100, c0: 40, c1: 90 }, what: 'zoomed viewport, block 1 (exact)' },
    ],
  },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`pooled viewports match the float64 reference: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, ${c.pattern} (SEED=${seed})`, async () => {
    const ctx = await gpu();
    const { heads, kvHeads, S, d } = c;
    const shape = { heads, kvHeads, S, d };
    const x = attentionInputs(seed, heads, kvHeads, S, d, c.pattern);
    const r = rng(seed ^ 0x1b873593);
    const lseHost = new Float32Array(heads * S);
    const windows: number[] = [];
    const sets: Uint8Array[] = [];
    for (let h = 0; h < heads; h++) {
      const g = kvHeadOf(h, heads, kvHeads);
      lseHost.set(denseAttention(headView(x.q, h, S, d), headView(x.k, g, S, d), headView(x.v, g, S, d), S, d).lse, h * S);
      const keys: number[] = [];
      for (let j = 0; j < S; j++) if (r() < 0.15) keys.push(j);
      sets.push(keySetOf(keys, S));
      windows.push([0, 1, 5, Math.ceil(0.3 * S)][h % 4]);
    }
    const rows = Array.from({ length: heads }, (_, h) => {
      const g = kvHeadOf(h, heads, kvHeads);
      return Array.from({ length: S }, (_, i) => attentionRow(headView(x.q, h, S, d), headView(x.k, g, S, d), S, d, i));
    });
    const q = uploadTensor(ctx, 'q', [heads, S, d], x.q);
    const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k);
    const lse = uploadTensor(ctx, 'dense lse', [heads, S], lseHost);
    const pa = layerPlaneArrays(sets.map((set, h) => tokensPlanes(set, windows[h])));
    const planes = uploadMaskPlanes(ctx, heads, S, pa.col, pa.diagCum); // (heads, S) u32 each
    try {
      for (const view of c.views) {
        // Heads 1.. (headStart > 0 checks the head offset), or all of them.
        const headStart = heads > 2 ? 1 : 0, headCount = heads - headStart;
        const req = { B: view.B, headStart, headCount, viewport: view.viewport };
        const grid = poolGrid(S, view.B, view.viewport);
        const pooled = createPooled(ctx, S, req);
        try {
          assert.deepEqual(pooled.shape, [headCount, 4, grid.rows, grid.cols]);
          ctx.device.queue.writeBuffer(pooled.buffer, 0, new Float32Array(headCount * 4 * grid.rows * grid.cols).fill(NaN));
          await checked(ctx.device, 'pool', () => run(ctx, [poolDispatch(ctx, shape, q, k, lse, planes.col.buffer, planes.diagCum.buffer, req, pooled)]));
          const got = await readTensor(ctx, pooled);
          const n = grid.rows * grid.cols;
          for (let hh = 0; hh < headCount; hh++) {
            const h = headStart + hh;
            const want = poolViewportReference((i) => rows[h][i], (i, j) => inMask(i, j, windows[h], sets[h]), grid);
            POOL_PLANES.forEach((name, pl) => {
              for (let cell = 0; cell < n; cell++) {
                const g = got[(hh * 4 + pl) * n + cell], w = want[pl][cell];
                const tol = name === 'keptFraction' ? FRACTION_TOL : name === 'maxP' ? TOL : TOL + SUM_REL_TOL * Math.abs(w);
                // NaN fails every comparison: !(|g - w| <= tol) catches it along with large errors.
                const relBad = grid.block === 1 && name === 'maxP' && w > 1e-6 && !(Math.abs(g - w) / w <= REL_TOL);
                if (Number.isFinite(g) && Math.abs(g - w) <= tol && !relBad) continue;
                const at = `${view.what}, head ${h}, ${name}, cell (${Math.floor(cell / grid.cols)}, ${cell % grid.cols}) of ${grid.rows} x ${grid.cols}, block ${grid.block}`;
                assert.fail(`${at}: got ${g}, want ${w} (tolerance ${tol}${grid.block === 1 && name === 'maxP' ? `, ${REL_TOL} relative` : ''})`);
              }
            });
            const v = grid.viewport;
            if (v.c0 >= v.r1) assert.ok(got.subarray(hh * 4 * n, (hh + 1) * 4 * n).every((y) => y === 0), `${view.what}: a viewport above the diagonal is all zeros`);
            if (grid.block === 1) {
              // Exact: each cell is one (query, key) entry; the sum plane equals the max plane.
              for (let cell = 0; cell < n; cell++) assert.equal(got[hh * 4 * n + cell], got[(hh * 4 + 1) * n + cell]);
            }
          }
        } finally {
          destroyAll(pooled);
        }
      }
    } finally {
      destroyAll(q, k, lse);
      destroyMaskPlanes(planes);
    }
  });
}

test('pool D chunks: as few as fit the workgroup memory, balanced, too little memory named', () => {
  // 1792 fixed bytes and 256 per dimension (pool.ts): 32 KiB hold 121 dimensions, 16 KiB 57.
  assert.equal(poolDimChunk(40, 32768), 40);
  assert.equal(poolDimChunk(128, 32768), 64); // 2 chunks
  assert.equal(poolDimChunk(128, 49152), 128);
  assert.equal(poolDimChunk(128, 16384), 43); // 3 chunks: 43, 43, 42
  assert.equal(poolDimChunk(40, 4096), 8); // 9 fit: 5 chunks of 8
  assert.equal(poolDimChunk(8, 16384), 8);
  assert.throws(() => poolDimChunk(8, 2000), /2000 bytes of workgroup memory cannot hold the 2048/);
});

test('pool grids: block from the viewport, bad viewports named', () => {
  assert.deepEqual(poolGrid(700, 512), { rows: 350, cols: 350, block: 2, viewport: { r0: 0, r1: 700, c0: 0, c1: 700 } });
  assert.deepEqual(poolGrid(700, 440, { r0: 100, r1: 400, c0: 50, c1: 350 }), { rows: 300, cols: 300, block: 1, viewport: { r0: 100, r1: 400, c0: 50, c1: 350 } });
  assert.deepEqual(poolGrid(8192, 440, { r0: 0, r1: 1000, c0: 7000, c1: 7300 }), { rows: 334, cols: 100, block: 3, viewport: { r0: 0, r1: 1000, c0: 7000, c1: 7300 } });
  assert.throws(() => poolGrid(100, 10, { r0: 50, r1: 50, c0: 0, c1: 10 }), /viewport query rows \[50, 50\) are not a non-empty range within \[0, 100\)/);
  assert.throws(() => poolGrid(100, 10, { r0: 0, r1: 10, c0: 90, c1: 101 }), /viewport keys \[90, 101\)/);
  assert.throws(() => poolGrid(100, 0), /grid side B must be a positive integer/);
});
