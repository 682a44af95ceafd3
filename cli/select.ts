// `sa-studio select`: SampleAttention's per-head selection (stage 1 rows, stage 2 keys, window)
// and its measures (recall mean/min/P5, density) for captured post-RoPE q and k, on the CPU with
// the float64 reference (src/sampleattention/spec/reference.ts). The lead will add a GPU path; the output
// format stays the same. `--variant blocks` selects column blocks and slash bands instead
// (select-blocks.ts); `tokens` stays the default and its output is unchanged.
import { writeFileSync } from 'node:fs';
import { SAMPLE_FLAGS, flagParams } from './sample-flags';
import { parseFlags, usage, UsageError, type FlagSpec } from './args';
import { VARIANT_FLAGS, blocksFlagParams, flagVariant } from './variant-flags';
import { selectBlocks, type BlocksSelectOutput } from './select-blocks';
import type { BlocksParams } from '../src/sampleattention/spec/blocks/params';
import { type SampleParams } from '../src/sampleattention/spec/params';
import { type HeadSelection } from '../src/sampleattention/spec/selection';
import { selectAll } from '../src/sampleattention/spec/reference';
import { QkFileError, type QkTensors } from '../src/sampleattention/formats/qk-file';
import { readQkLayer } from './capture-input';
import { oneLine } from '../gpu/errors';

const SPEC: FlagSpec = {
  qk: { kind: 'string', required: true, help: 'safetensors file with F32 "q" [heads, S, d] and "k" [kv_heads, S, d] (post-RoPE); an optional "v" [kv_heads, S, d] adds outputError' },
  ...SAMPLE_FLAGS,
  ...VARIANT_FLAGS,
  layer: { kind: 'number', help: 'read q.<layer> / k.<layer> (a file written by `sa-studio capture`) instead of q / k' },
  scale: { kind: 'number', help: 'softmax scale (default 1/sqrt(d))' },
  out: { kind: 'string', required: true, help: 'where to write the selection JSON' },
  help: { kind: 'boolean', help: 'print this help' },
};

const SUMMARY = 'select SampleAttention keys per head for captured q/k and measure recall and density (CPU float64 reference)';

export interface SelectOutput {
  S: number;
  d: number;
  numHeads: number;
  numKvHeads: number;
  scale: number;
  params: SampleParams;
  heads: HeadSelection[];
}

export interface CommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const defaultIo: CommandIo = {
  stdout: (l) => process.stdout.write(l + '\n'),
  stderr: (l) => process.stderr.write(l + '\n'),
};

/** Runs the verb; returns the exit status (0 ok, 2 usage or a bad / unreadable --qk file, 1 write failure). */
export async function selectCommand(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  if (argv.includes('--help')) {
    io.stdout(usage('select', SUMMARY, SPEC));
    return 0;
  }
  let flags;
  let params: SampleParams | undefined;
  let blocks: BlocksParams | undefined;
  try {
    flags = parseFlags('select', argv, SPEC);
    if (flagVariant('select', flags) === 'blocks') blocks = blocksFlagParams('select', flags);
    else params = flagParams('select', flags);
    if (flags.scale !== undefined && !((flags.scale as number) > 0)) throw new UsageError(`select: --scale must be a positive number, got ${flags.scale}.`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(e.message);
      io.stderr(`Run \`sa-studio select --help\` for every flag.`);
      return 2;
    }
    throw e;
  }

  const file = flags.qk as string;
  let t;
  try {
    t = await readQkLayer(file, flags.layer as number | undefined);
  } catch (e) {
    if (e instanceof QkFileError || e instanceof UsageError) {
      io.stderr(`select: ${oneLine(e.message)}`);
      return 2;
    }
    throw e;
  }

  const scale = (flags.scale as number | undefined) ?? 1 / Math.sqrt(t.d);
  const result = blocks ? selectBlocks(t, scale, blocks, io.stderr) : selectTokens(t, scale, params as SampleParams, io);
  const outPath = flags.out as string;
  try {
    writeFileSync(outPath, formatSelection(result));
  } catch (e) {
    io.stderr(`select: cannot write --out ${outPath}: ${(e as Error).message}`);
    return 1;
  }
  io.stderr(`select: wrote ${outPath}`);
  return 0;
}

function selectTokens(t: QkTensors, scale: number, params: SampleParams, io: CommandIo): SelectOutput {
  io.stderr(`select: ${t.heads} heads (${t.kvHeads} kv heads), S = ${t.S}, d = ${t.d}; alpha ${params.alpha}, rowRatio ${params.rowRatio}, windowRatio ${params.windowRatio}`);
  const t0 = Date.now();
  const heads = selectAll(t.q, t.k, t.heads, t.kvHeads, t.S, t.d, params, {
    v: t.v,
    scale,
    onHead: (sel, n) =>
      io.stderr(
        `  head ${sel.head + 1}/${n}: ${sel.selectedKeys.length} keys, window ${sel.window}, recall mean ${sel.recallMean.toFixed(4)} min ${sel.recallMin.toFixed(4)} P5 ${sel.recallP5.toFixed(4)}, density ${sel.density.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      ),
  });
  return { S: t.S, d: t.d, numHeads: t.heads, numKvHeads: t.kvHeads, scale, params, heads };
}

/** The output JSON: the header fields one per line, then one line per head (long index lists
 * stay on their head's line, so the file reads head by head and diffs well). */
export function formatSelection(r: SelectOutput | BlocksSelectOutput): string {
  const { heads, ...top } = r;
  const lines = Object.entries(top).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
  const body = heads.map((h, t) => `    ${JSON.stringify(h)}${t < heads.length - 1 ? ',' : ''}`);
  return ['{', ...lines, '  "heads": [', ...body, '  ]', '}'].join('\n') + '\n';
}
