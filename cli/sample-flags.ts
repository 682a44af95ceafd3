// The three SampleAttention flags every verb that runs it shares, with the spec's defaults and
// ranges; a value out of range is a usage error naming the flag.
import type { FlagSpec } from './args';
import { UsageError } from './args';
import { DEFAULT_PARAMS, PARAM_KEYS, paramProblem, type SampleParams } from '../src/sampleattention/spec/params';

export const SAMPLE_FLAGS: FlagSpec = {
  alpha: { kind: 'number', help: `CRA threshold in (0, 1] (default ${DEFAULT_PARAMS.alpha})` },
  'row-ratio': { kind: 'number', help: `share of query rows sampled in stage 1, in (0, 1] (default ${DEFAULT_PARAMS.rowRatio})` },
  'window-ratio': { kind: 'number', help: `local window as a share of S, in [0, 1] (default ${DEFAULT_PARAMS.windowRatio})` },
};

/** One set of parameters for all heads, from the flags, checked with the spec's ranges. */
export function flagParams(verb: string, f: Record<string, unknown>): SampleParams {
  const p: SampleParams = {
    alpha: (f.alpha as number | undefined) ?? DEFAULT_PARAMS.alpha,
    rowRatio: (f['row-ratio'] as number | undefined) ?? DEFAULT_PARAMS.rowRatio,
    windowRatio: (f['window-ratio'] as number | undefined) ?? DEFAULT_PARAMS.windowRatio,
  };
  const flagOf = { alpha: 'alpha', rowRatio: 'row-ratio', windowRatio: 'window-ratio' } as const;
  for (const name of PARAM_KEYS) {
    const problem = paramProblem(name, p[name]);
    if (problem) throw new UsageError(`${verb}: --${flagOf[name]} ${problem}.`);
  }
  return p;
}
