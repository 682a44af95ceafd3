// Tile shapes and shader source of the register-tiled attention kernels (tiled.wgsl). WGSL sizes
// function-scope arrays with constants only, so the tile shape is baked into the source as a
// header of `const` lines; pipelines are cached per source (gpu/kernel.ts).
import tiledWgsl from './tiled.wgsl';
import tilesWgsl from './tiles.wgsl';

/** TX x TY threads; each owns a 4 x 4 score tile: BQ = 4 TY query rows, BK = 4 TX keys. */
export interface AttentionTile {
  TX: number;
  TY: number;
}

export type TiledMode = 'dense' | 'sparse' | 'rows';
const MODE_ID: Record<TiledMode, number> = { dense: 0, sparse: 1, rows: 2 };

/** Padded head dim of V and O: a multiple of 4 TX so each thread owns whole vec4s. */
function vec4PerThread(d: number, TX: number): number {
  return Math.ceil(d / (4 * TX));
}

/** Workgroup memory of a tile in bytes: Q^T, the shared K^T / V buffer, P^T. */
export function tileBytes(t: AttentionTile, d: number, withV: boolean): number {
  const BQ = 4 * t.TY, BK = 4 * t.TX;
  const kv = withV ? Math.max(d, 4 * t.TX * vec4PerThread(d, t.TX)) * BK : d * BK;
  return 4 * (d * BQ + kv + BK * BQ);
}

// Best first: 64 x 64 tiles (each K/V element loaded once serves 64 rows, each Q element 64 keys),
// then smaller ones for big head dims or adapters with 16 KiB of workgroup memory.
const CANDIDATES: AttentionTile[] = [
  { TX: 16, TY: 16 },
  { TX: 8, TY: 16 },
  { TX: 16, TY: 8 },
  { TX: 8, TY: 8 },
  { TX: 8, TY: 4 },
  { TX: 4, TY: 8 },
  { TX: 4, TY: 4 },
  { TX: 2, TY: 4 },
  { TX: 2, TY: 2 },
];

/** The largest tile that fits the adapter's workgroup memory and invocation limits. */
export function chooseTile(device: GPUDevice, d: number, withV: boolean): AttentionTile {
  const mem = device.limits.maxComputeWorkgroupStorageSize;
  const threads = device.limits.maxComputeInvocationsPerWorkgroup;
  for (const t of CANDIDATES) {
    if (t.TX * t.TY <= threads && tileBytes(t, d, withV) <= mem) return t;
  }
  throw new Error(`attention: no tile fits head dimension ${d} in this adapter's ${mem} bytes of workgroup memory; use a smaller head dimension.`);
}

/** Throws unless `t` is a valid tile that fits this device (for callers forcing a tile). */
export function checkTile(device: GPUDevice, t: AttentionTile, d: number, withV: boolean): void {
  const ok = (x: number) => [1, 2, 4, 8, 16, 32].includes(x);
  if (!ok(t.TX) || !ok(t.TY)) throw new RangeError(`attention tile ${t.TX} x ${t.TY}: TX and TY must be powers of two up to 32.`);
  if (t.TX * t.TY > device.limits.maxComputeInvocationsPerWorkgroup) throw new RangeError(`attention tile ${t.TX} x ${t.TY}: more threads than this adapter allows per workgroup.`);
  const bytes = tileBytes(t, d, withV);
  if (bytes > device.limits.maxComputeWorkgroupStorageSize) throw new RangeError(`attention tile ${t.TX} x ${t.TY} needs ${bytes} bytes of workgroup memory at d = ${d}; this adapter has ${device.limits.maxComputeWorkgroupStorageSize}.`);
}

/** WGSL source of tiled.wgsl for one tile shape, head dim and mode. */
export function tiledSource(t: AttentionTile, d: number, mode: TiledMode, withV: boolean): string {
  const NE = vec4PerThread(d, t.TX);
  const kvLen = withV ? Math.max(d * t.TX, 4 * t.TX * t.TX * NE) : d * t.TX; // vec4s
  return [
    `const TX: u32 = ${t.TX}u;`,
    `const TY: u32 = ${t.TY}u;`,
    `const D: u32 = ${d}u;`,
    `const NE: u32 = ${NE}u;`,
    `const MODE: u32 = ${MODE_ID[mode]}u;`,
    `const WITH_V: bool = ${withV};`,
    `const KV_LEN: u32 = ${kvLen}u;`,
    tiledWgsl,
    tilesWgsl,
  ].join('\n');
}
