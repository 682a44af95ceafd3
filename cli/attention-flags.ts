// How a verb's prefill attends: --attention dense|sample, with one setting for every head from the
// SampleAttention flags (--variant tokens|blocks and that variant's flags: cli/variant-flags.ts,
// cli/sample-flags.ts) or per-head settings of any mix of variants from --config. Read in two
// steps: the flags and the config file before the model loads (a broken file fails at once), the
// config's fit to the model after.
import type { FlagSpec } from './args';
import { UsageError } from './args';
import { SAMPLE_FLAGS } from './sample-flags';
import { VARIANT_FLAGS, describeSetting, flagSetting } from './variant-flags';
import type { SettingLike } from '../src/sampleattention/spec/setting';
import type { ModelConfig } from '../src/model/config';
import { readConfigFile } from '../src/sampleattention/formats/config-file-node';
import { checkConfigFits, configParams, modelIdentity } from '../src/sampleattention/formats/config-file';

export const CONFIG_FLAG: FlagSpec = {
  config: { kind: 'string', help: 'per-head config JSON (sa-studio tune, or the studio\'s export; heads of either variant); else one setting for every head from --variant and its flags' },
  ...SAMPLE_FLAGS,
  ...VARIANT_FLAGS,
};

export const ATTENTION_FLAGS: FlagSpec = {
  attention: { kind: 'string', help: 'the prefill\'s attention: dense (default) or sample (SampleAttention; implied by --config or a SampleAttention flag)' },
  ...CONFIG_FLAG,
};

export interface SampleChoice {
  /** the config file's parameters per layer and head, or one set for every head */
  params: (model: { name: string; config: ModelConfig }) => SettingLike | readonly (readonly SettingLike[])[];
  describe: string;
}

/** Whether any SampleAttention flag (either variant's, or --variant) was given. */
const sampleFlagGiven = (f: Record<string, unknown>) => [...Object.keys(SAMPLE_FLAGS), ...Object.keys(VARIANT_FLAGS)].some((name) => f[name] !== undefined);

/** SampleAttention's parameters from --config or the flags (ttft always runs it; generate when asked). */
export function sampleChoice(verb: string, f: Record<string, unknown>): SampleChoice {
  if (f.config !== undefined && sampleFlagGiven(f)) throw new UsageError(`${verb}: give either --config or the SampleAttention flags (--variant, --alpha, --row-ratio, --window-ratio, --block-size, --alpha-column, --alpha-slash), not both.`);
  if (f.config === undefined) {
    const p = flagSetting(verb, f);
    return { params: () => p, describe: `SampleAttention ${describeSetting(p)} in every head` };
  }
  const file = f.config as string;
  const cfg = readConfigFile(file);
  const heads = cfg.layers.flatMap((l) => l.heads);
  const blocks = heads.filter((h) => h.variant === 'blocks').length;
  return {
    params: (m) => {
      const warning = checkConfigFits(cfg, modelIdentity(m.name, m.config), file);
      if (warning) process.stderr.write(`${verb}: ${warning}\n`);
      return configParams(cfg);
    },
    describe: `SampleAttention per head from ${file} (${heads.length - blocks} tokens, ${blocks} blocks heads)`,
  };
}

/** --attention with its default: sample when a SampleAttention flag or --config is given. */
export function attentionChoice(verb: string, f: Record<string, unknown>): SampleChoice | null {
  const a = f.attention as string | undefined;
  if (a !== undefined && a !== 'dense' && a !== 'sample') throw new UsageError(`${verb}: --attention must be dense or sample, got ${a}.`);
  const implied = f.config !== undefined || sampleFlagGiven(f);
  if (a === 'dense' && implied) throw new UsageError(`${verb}: --attention dense takes no --config or SampleAttention flags.`);
  return a === 'sample' || implied ? sampleChoice(verb, f) : null;
}
