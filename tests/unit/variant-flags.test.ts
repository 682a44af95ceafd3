// The SampleAttention flags of the verbs that run it (cli/attention-flags.ts over
// cli/variant-flags.ts): --variant picks tokens or blocks, the other variant's flags and a mix with
// --config are usage errors naming the flags, --config reads heads of both variants (and counts
// them), and `--variant` alone implies SampleAttention. No GPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { UsageError } from '../../cli/args';
import { attentionChoice, sampleChoice } from '../../cli/attention-flags';
import { flagSetting } from '../../cli/variant-flags';
import { buildConfig, serializeConfig } from '../../src/sampleattention/formats/config-file';
import { DEFAULT_PARAMS } from '../../src/sampleattention/spec/params';
import { DEFAULT_BLOCKS_PARAMS } from '../../src/sampleattention/spec/blocks/params';
import type { HeadSetting } from '../../src/sampleattention/spec/setting';
import type { ModelConfig } from '../../src/model/config';

test('--variant and its flags give one setting for every head; the other variant\'s flags are refused', () => {
  assert.deepEqual(flagSetting('run', {}), { variant: 'tokens', ...DEFAULT_PARAMS });
  assert.deepEqual(flagSetting('run', { variant: 'blocks', 'block-size': 32, 'alpha-slash': 0.8 }), { variant: 'blocks', ...DEFAULT_BLOCKS_PARAMS, blockSize: 32, alphaSlash: 0.8 });
  assert.deepEqual(flagSetting('run', { variant: 'tokens', alpha: 0.7, 'row-ratio': 0.2 }), { variant: 'tokens', ...DEFAULT_PARAMS, alpha: 0.7, rowRatio: 0.2 });
  const usage = (f: Record<string, unknown>, re: RegExp) => assert.throws(() => sampleChoice('eval', f), (e: unknown) => e instanceof UsageError && re.test(e.message));
  usage({ variant: 'blocks', alpha: 0.9 }, /eval: --alpha is a flag of --variant tokens; --variant blocks takes --block-size, --alpha-column, --alpha-slash, --row-ratio/);
  usage({ 'block-size': 16 }, /--block-size is a flag of --variant blocks/);
  usage({ variant: 'stripes' }, /--variant must be one of tokens, blocks, got "stripes"/);
  usage({ variant: 'blocks', 'block-size': 0 }, /--block-size 0 is not an integer in \[1, 65536\]/);
  usage({ config: 'x.json', 'alpha-column': 0.9 }, /give either --config or the SampleAttention flags/);
  assert.match(sampleChoice('eval', { variant: 'blocks', 'block-size': 64 }).describe, /^SampleAttention blocks blockSize 64, alphaColumn 0.95, alphaSlash 0.95, rowRatio 0.05 in every head$/);
  assert.match(sampleChoice('eval', {}).describe, /^SampleAttention alpha 0.95, rowRatio 0.05, windowRatio 0.08 in every head$/);
  // --variant alone (or a blocks flag) implies SampleAttention; dense with one is refused.
  assert.ok(attentionChoice('run', { variant: 'blocks' }));
  assert.equal(attentionChoice('run', {}), null);
  assert.throws(() => attentionChoice('run', { attention: 'dense', 'block-size': 16 }), /--attention dense takes no --config or SampleAttention flags/);
});

test('--config with tokens and blocks heads: the settings per layer and head, counted in the description', () => {
  const model = { name: 'tiny', family: 'llama' as const, layers: 2, heads: 2, kvHeads: 1, headDim: 8 };
  const params: HeadSetting[][] = [
    [{ variant: 'tokens', alpha: 0.9, rowRatio: 0.1, windowRatio: 0.1 }, { variant: 'blocks', blockSize: 16, alphaColumn: 0.9, alphaSlash: 0.8, rowRatio: 0.1 }],
    [{ variant: 'blocks', blockSize: 32, alphaColumn: 0.7, alphaSlash: 0.9, rowRatio: 0.2 }, { variant: 'blocks', blockSize: 16, alphaColumn: 0.95, alphaSlash: 0.95, rowRatio: 0.05 }],
  ];
  const file = join(mkdtempSync(join(tmpdir(), 'sa-variant-')), 'mixed.json');
  writeFileSync(file, serializeConfig(buildConfig({ model, text: { tokens: 10 }, defaults: DEFAULT_PARAMS, params })));
  const choice = sampleChoice('ttft', { config: file });
  assert.equal(choice.describe, `SampleAttention per head from ${file} (1 tokens, 3 blocks heads)`);
  const config = { family: 'llama', numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 8 } as ModelConfig;
  assert.deepEqual(choice.params({ name: 'tiny', config }), params);
});
