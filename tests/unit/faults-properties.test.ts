// Property tests (issue 17, item 3): random byte corruption, truncation and splicing of real files
// — safetensors weights (single and sharded), config.json, tokenizer.json, a shard index, a capture
// (q/k/v) file and a per-head config — and random JSON edits of config.json and the per-head
// config. Every case must end either in success (the corruption left a valid file) or in one of
// our named errors (InputError and its subclasses) that names a file, tensor or key: never a hang,
// never an exception of another type. Each case's time is measured: over HANG_MS counts as a hang
// (a true infinite loop would stop the whole test at its timeout, which fails it as well).
// The test prints the number of cases, hangs, crashes (TypeError, RangeError, ... escaping) and
// unnamed errors (a plain Error, or a named one that names nothing); all must be 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { freshSeed } from '../helpers/gpu';
import { PARITY_DIR } from '../helpers/parity';
import { loadCheckpoint } from '../../src/model/loader/checkpoint';
import { memoryFiles } from '../../src/model/loader/files';
import { parseSafetensors, writeSafetensors, type TensorToWrite } from '../../src/model/loader/safetensors-format';
import { planWeights } from '../../src/model/weight-plan';
import { loadSpec } from '../../src/model/build';
import { encodeQkSafetensors, parseQkSafetensors } from '../../src/sampleattention/formats/qk-file';
import { buildConfig, parseConfig, serializeConfig } from '../../src/sampleattention/formats/config-file';
import { checkConfigFits } from '../../src/sampleattention/formats/config-file';
import { InputError } from '../../gpu/errors';
import { mulberry32, randn } from '../../src/util/random';

const seed = freshSeed();
const HANG_MS = 3000;
const RUNS = Number(process.env.FAULT_RUNS ?? 200); // per target and mutation kind (about 6,400 cases in all)

type Files = Record<string, Uint8Array>;
const enc = new TextEncoder();
const fixture = (dir: string, names: string[]): Files => Object.fromEntries(names.map((n) => [n, new Uint8Array(readFileSync(join(dir, n)))]));
const CK = ['config.json', 'tokenizer.json', 'model.safetensors'];
const checkpoints: Record<string, Files> = {
  llama3: fixture(join(PARITY_DIR, 'llama3'), CK),
  gpt2: fixture(join(PARITY_DIR, 'gpt2'), CK),
  qwen3: fixture(join(PARITY_DIR, 'qwen3'), CK),
  'fixture-llama3': fixture(new URL('../../public/models/fixture-llama3', import.meta.url).pathname, CK),
};
// A sharded copy of the llama3 fixture: two shards and an index.
{
  const base = checkpoints.llama3;
  const w = base['model.safetensors'];
  const h = parseSafetensors(w, 'model.safetensors');
  const tensors: TensorToWrite[] = h.entries.map((e) => ({ name: e.name, dtype: 'F32', shape: e.shape, data: w.slice(h.dataStart + e.begin, h.dataStart + e.end) }));
  const half = tensors.length >> 1;
  const a = 'model-00001-of-00002.safetensors', b = 'model-00002-of-00002.safetensors';
  const weight_map = Object.fromEntries(tensors.map((t, i) => [t.name, i < half ? a : b]));
  checkpoints.sharded = {
    'config.json': base['config.json'], 'tokenizer.json': base['tokenizer.json'],
    [a]: writeSafetensors(tensors.slice(0, half)), [b]: writeSafetensors(tensors.slice(half)),
    'model.safetensors.index.json': enc.encode(JSON.stringify({ metadata: { total_size: 0 }, weight_map })),
  };
}

// A capture file as `sa-studio capture` writes it (input_ids, q.L, k.L, v.L), 2 layers.
const capture = (() => {
  const r = mulberry32(1234);
  const heads = 4, kv = 2, S = 12, d = 8;
  const t: TensorToWrite[] = [{ name: 'input_ids', dtype: 'I32', shape: [S], data: Int32Array.from({ length: S }, (_, i) => i) }];
  for (let l = 0; l < 2; l++) {
    t.push({ name: `q.${l}`, dtype: 'F32', shape: [heads, S, d], data: randn(r, heads * S * d) });
    t.push({ name: `k.${l}`, dtype: 'F32', shape: [kv, S, d], data: randn(r, kv * S * d) });
    t.push({ name: `v.${l}`, dtype: 'F32', shape: [kv, S, d], data: randn(r, kv * S * d) });
  }
  return writeSafetensors(t);
})();
const selectInput = (() => {
  const r = mulberry32(99);
  return encodeQkSafetensors({ q: randn(r, 2 * 10 * 4), k: randn(r, 10 * 4), v: randn(r, 10 * 4), heads: 2, kvHeads: 1, S: 10, d: 4 });
})();

// A per-head config for the llama3 fixture's shape.
const identity = { name: 'llama3', family: 'llama' as const, layers: 2, heads: 4, kvHeads: 2, headDim: 16 };
const p = { alpha: 0.95, rowRatio: 0.05, windowRatio: 0.08 };
const m = { recallMean: 0.99, recallMin: 0.9, recallP5: 0.95, density: 0.3 };
const perHead = serializeConfig(buildConfig({ model: identity, text: { tokens: 64, sha256: 'a'.repeat(64) }, defaults: p, params: [[p, p, p, p], [p, p, p, p]], measured: [[m, m, m, m], [m, m, m, m]] }));

// ---- what runs on a (possibly broken) input ----
async function openCheckpoint(files: Files): Promise<void> {
  const ck = await loadCheckpoint(memoryFiles('ck', files));
  const plan = planWeights(ck.config, ck.weights);
  // buildModel's host side: widen every weight and check it is finite (no GPU needed).
  const cache = { name: '', data: new Float32Array(0) };
  for (const s of plan.specs) loadSpec(ck.weights, s, cache);
  ck.tokenizer.encode('Hello, world! 123 héllo');
}
const openCapture = async (bytes: Uint8Array) => {
  parseQkSafetensors(bytes, 'capture.safetensors', 0);
  parseQkSafetensors(bytes, 'capture.safetensors', 1);
};
const openSelect = async (bytes: Uint8Array) => void parseQkSafetensors(bytes, 'qk.safetensors');
const openConfig = async (text: string) => void checkConfigFits(parseConfig(text, 'heads.json'), identity, 'heads.json');

// ---- mutations ----
type Mutation = { kind: 'truncate'; at: number } | { kind: 'overwrite'; edits: [number, number][] } | { kind: 'splice'; at: number; len: number } | { kind: 'header'; edits: [number, number][] };
/** A random mutation of a file of `n` bytes; 'header' overwrites inside the first `head` bytes. */
const mutation = (n: number, head: number): fc.Arbitrary<Mutation> => fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: Math.max(0, n - 1) }) }),
  fc.record({ kind: fc.constant('overwrite' as const), edits: fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat({ max: n - 1 }), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('header' as const), edits: fc.array(fc.tuple(fc.nat({ max: Math.max(0, head - 1) }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }) }),
);
function apply(b: Uint8Array, mu: Mutation): Uint8Array {
  switch (mu.kind) {
    case 'truncate': return b.slice(0, mu.at);
    case 'splice': { const out = new Uint8Array(b.length - Math.min(mu.len, b.length - mu.at)); out.set(b.subarray(0, mu.at)); out.set(b.subarray(mu.at + mu.len), mu.at); return out; }
    default: { const out = b.slice(); for (const [i, v] of mu.edits) out[i] = v; return out; }
  }
}
/** The first bytes worth aiming at: a safetensors header (8 + its length), or a whole JSON file. */
function headBytes(name: string, b: Uint8Array): number {
  if (!name.endsWith('.safetensors') || b.length < 8) return b.length;
  return Math.min(b.length, 8 + Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)));
}

/** A random JSON edit: set (or delete) the value at a random path of `doc`. */
const jsonEdit = fc.record({ path: fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 5 }), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.double(), fc.integer({ min: -5, max: 1 << 20 })) });
function editJson(doc: unknown, e: { path: number[]; value: unknown }): unknown {
  const root = structuredClone(doc) as Record<string, unknown>;
  let cur: unknown = root;
  for (let i = 0; i < e.path.length; i++) {
    if (typeof cur !== 'object' || cur === null) break;
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const k = Array.isArray(cur) ? e.path[i] % cur.length : keys[e.path[i] % keys.length];
    const next = (cur as Record<string, unknown>)[k as string];
    const last = i === e.path.length - 1 || typeof next !== 'object' || next === null;
    if (last) {
      if (e.value === undefined && !Array.isArray(cur)) delete (cur as Record<string, unknown>)[k as string];
      else (cur as Record<string | number, unknown>)[k] = e.value ?? null;
      break;
    }
    cur = next;
  }
  return root;
}

// ---- outcomes ----
const counts = { cases: 0, ok: 0, named: 0, hangs: 0, crashes: 0, unnamed: 0, maxMs: 0 };
const byClass = new Map<string, number>();
const bad: string[] = [];
async function run(what: string, fn: () => Promise<void>): Promise<void> {
  counts.cases++;
  const t0 = performance.now();
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  counts.maxMs = Math.max(counts.maxMs, ms);
  if (ms > HANG_MS) {
    counts.hangs++;
    bad.push(`hang (${ms.toFixed(0)} ms): ${what}`);
  }
  if (error === undefined) { counts.ok++; return; }
  if (error instanceof InputError) {
    byClass.set(error.name, (byClass.get(error.name) ?? 0) + 1);
    if (error.file === undefined && error.tensor === undefined && error.key === undefined) {
      counts.unnamed++;
      bad.push(`${error.name} naming no file/tensor/key: ${what}: ${error.message}`);
    } else counts.named++;
    return;
  }
  const ctor = (error as Error)?.constructor?.name ?? typeof error;
  if (ctor === 'Error') { counts.unnamed++; bad.push(`plain Error: ${what}: ${(error as Error).message}`); }
  else {
    counts.crashes++;
    const frame = /\n\s+at .*?\(?([^()\s]+:\d+):\d+\)?/.exec((error as Error)?.stack ?? '')?.[1]?.replace(/^.*\/wt-faults\//, '') ?? '';
    bad.push(`${ctor} at ${frame}: ${(error as Error)?.message ?? error} [${what}]`);
  }
}

const describe = (mu: Mutation) => JSON.stringify(mu).slice(0, 160);

test(`corrupt and truncated files always end in a named error, never a hang or a crash (seed ${seed})`, { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const params = { numRuns: RUNS, seed };
  // Checkpoints: every file of each one.
  for (const [ck, files] of Object.entries(checkpoints)) {
    for (const [name, bytes] of Object.entries(files)) {
      const runs = name.endsWith('.safetensors') || name === 'config.json' ? RUNS : Math.ceil(RUNS / 2);
      await fc.assert(fc.asyncProperty(mutation(bytes.length, headBytes(name, bytes)), async (mu) => {
        await run(`${ck}/${name} ${describe(mu)}`, () => openCheckpoint({ ...files, [name]: apply(bytes, mu) }));
      }), { ...params, numRuns: runs });
    }
    // Random JSON edits of config.json and tokenizer.json (values of every type at every key).
    for (const name of ['config.json', 'tokenizer.json']) {
      const doc = JSON.parse(new TextDecoder().decode(files[name]));
      await fc.assert(fc.asyncProperty(jsonEdit, async (e) => {
        await run(`${ck}/${name} edit ${JSON.stringify(e).slice(0, 160)}`, () => openCheckpoint({ ...files, [name]: enc.encode(JSON.stringify(editJson(doc, e))) }));
      }), params);
    }
  }
  // Capture and select input files.
  for (const [label, bytes, open] of [['capture', capture, openCapture], ['select input', selectInput, openSelect]] as const) {
    await fc.assert(fc.asyncProperty(mutation(bytes.length, headBytes('x.safetensors', bytes)), async (mu) => {
      await run(`${label} ${describe(mu)}`, () => open(apply(bytes, mu)));
    }), { ...params, numRuns: 2 * RUNS });
  }
  // Per-head config: bytes and JSON edits.
  const cfgBytes = enc.encode(perHead);
  await fc.assert(fc.asyncProperty(mutation(cfgBytes.length, cfgBytes.length), async (mu) => {
    await run(`per-head config ${describe(mu)}`, () => openConfig(new TextDecoder().decode(apply(cfgBytes, mu))));
  }), { ...params, numRuns: 2 * RUNS });
  const doc = JSON.parse(perHead);
  await fc.assert(fc.asyncProperty(jsonEdit, async (e) => {
    await run(`per-head config edit ${JSON.stringify(e).slice(0, 160)}`, () => openConfig(JSON.stringify(editJson(doc, e))));
  }), { ...params, numRuns: 2 * RUNS });

  const total = (performance.now() - t0) / 1000;
  console.log(`fault properties (seed ${seed}): ${counts.cases} cases in ${total.toFixed(1)} s (slowest ${counts.maxMs.toFixed(0)} ms, hang bound ${HANG_MS} ms): ` +
    `${counts.ok} loaded (corruption left a valid file), ${counts.named} named errors [${[...byClass].map(([k, v]) => `${k} ${v}`).join(', ')}]; ` +
    `hangs ${counts.hangs}, crashes ${counts.crashes}, unnamed errors ${counts.unnamed}`);
  for (const b of bad.slice(0, Number(process.env.FAULT_SHOW ?? 10))) console.log(`  ${b}`);
  assert.ok(counts.cases >= 20 * RUNS, `ran ${counts.cases} cases`);
  assert.ok(counts.named > counts.cases / 2, 'most corruptions are caught (a check that silently accepts everything fails here)');
  assert.equal(counts.hangs, 0, 'hangs');
  assert.equal(counts.crashes, 0, 'crashes');
  assert.equal(counts.unnamed, 0, 'unnamed errors');
});
