// The flags that pick SampleAttention's variant (docs/SAMPLEATTENTION.md: `tokens`, the default,
// and `blocks`) and the `blocks` variant's own parameters. A flag of the other variant is a usage
// error, not silently ignored: `--alpha 0.9 --variant blocks` would otherwise run with the
// default alphaColumn and alphaSlash and look like it honoured the 0.9.
import type { FlagSpec } from './args';
import { UsageError } from './args';
import { BLOCKS_PARAM_NAMES, blocksParamProblem, DEFAULT_BLOCKS_PARAMS, MAX_BLOCK_SIZE, type BlocksParams } from '../src/sampleattention/spec/blocks/params';
import { blocksSetting, tokensSetting, VARIANTS, type HeadSetting, type Variant } from '../src/sampleattention/spec/setting';
import { flagParams } from './sample-flags';

export { VARIANTS, type Variant };

export const VARIANT_FLAGS: FlagSpec = {
  variant: { kind: 'string', help: 'SampleAttention variant: tokens (column keys + local window, the default) or blocks (column blocks + slash bands)' },
  'block-size': { kind: 'number', help: `--variant blocks: keys per block and diagonals per band, an integer in [1, ${MAX_BLOCK_SIZE}] (default ${DEFAULT_BLOCKS_PARAMS.blockSize})` },
  'alpha-column': { kind: 'number', help: `--variant blocks: CRA threshold of the column blocks, in (0, 1] (default ${DEFAULT_BLOCKS_PARAMS.alphaColumn})` },
  'alpha-slash': { kind: 'number', help: `--variant blocks: CRA threshold of the slash bands, in (0, 1] (default ${DEFAULT_BLOCKS_PARAMS.alphaSlash})` },
};

/** Flags only one variant reads (--row-ratio is shared). */
const ONLY: Record<Variant, readonly string[]> = {
  tokens: ['alpha', 'window-ratio'],
  blocks: ['block-size', 'alpha-column', 'alpha-slash'],
};

const FLAG_OF: Record<(typeof BLOCKS_PARAM_NAMES)[number], string> = {
  blockSize: 'block-size',
  alphaColumn: 'alpha-column',
  alphaSlash: 'alpha-slash',
  rowRatio: 'row-ratio',
};

/** The variant the flags ask for (tokens when --variant is left out); rejects the other
 * variant's flags with a message naming them. */
export function flagVariant(verb: string, f: Record<string, unknown>): Variant {
  return variantOf(verb, f, VARIANTS, ONLY, ['row-ratio']) as Variant;
}

/** --variant (one of `allowed`, the first by default) with the flags only one variant reads
 * (`only`): a flag of a variant not chosen is a usage error; 'both' takes every variant's. */
export function variantOf<V extends string>(verb: string, f: Record<string, unknown>, allowed: readonly V[], only: Record<Variant, readonly string[]>, shared: readonly string[] = []): V {
  const v = (f.variant ?? allowed[0]) as V;
  if (!allowed.includes(v)) throw new UsageError(`${verb}: --variant must be one of ${allowed.join(', ')}, got "${String(v)}".`);
  for (const other of VARIANTS) {
    if ((v as string) === other || (v as string) === 'both') continue;
    for (const name of only[other]) {
      if (f[name] !== undefined) {
        const takes = (v as string) in only ? [...only[v as unknown as Variant], ...shared].map((n) => `--${n}`).join(', ') : '';
        throw new UsageError(`${verb}: --${name} is a flag of --variant ${other}; --variant ${v} takes ${takes}.`);
      }
    }
  }
  return v;
}

/** One set of `blocks` parameters for all heads, from the flags, checked with the spec's ranges. */
export function blocksFlagParams(verb: string, f: Record<string, unknown>): BlocksParams {
  const p = { ...DEFAULT_BLOCKS_PARAMS };
  for (const name of BLOCKS_PARAM_NAMES) {
    const given = f[FLAG_OF[name]];
    if (given !== undefined) p[name] = given as number;
    const problem = blocksParamProblem(name, p[name]);
    if (problem) throw new UsageError(`${verb}: --${FLAG_OF[name]} ${problem}.`);
  }
  return p;
}

/** One setting for every head from the flags: --variant picks the variant (tokens by default), its
 * flags fill in its parameters (SampleAttention's defaults elsewhere), the other variant's flags
 * are usage errors. */
export function flagSetting(verb: string, f: Record<string, unknown>): HeadSetting {
  return flagVariant(verb, f) === 'blocks' ? blocksSetting(blocksFlagParams(verb, f)) : tokensSetting(flagParams(verb, f));
}

/** "alpha 0.95, rowRatio 0.05, windowRatio 0.08" (tokens, as the verbs always printed it) or
 * "blocks blockSize 128, alphaColumn 0.95, alphaSlash 0.95, rowRatio 0.05". */
export function describeSetting(s: HeadSetting): string {
  return s.variant === 'tokens' ? `alpha ${s.alpha}, rowRatio ${s.rowRatio}, windowRatio ${s.windowRatio}` : `blocks blockSize ${s.blockSize}, alphaColumn ${s.alphaColumn}, alphaSlash ${s.alphaSlash}, rowRatio ${s.rowRatio}`;
}
