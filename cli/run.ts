// `sa-studio run`: tokenize, prefill on WebGPU, summary; --dump writes input_ids, logits and
// every layer's attention probabilities as safetensors.
import { writeFileSync } from 'node:fs';
import { HELP_FLAG, MODEL_FLAGS, parseFlags, printedHelp, type FlagSpec } from './args';
import { ATTENTION_FLAGS, attentionChoice } from './attention-flags';
import { sampleAttentionOverride } from '../src/sampleattention/gpu-run/model-attention';
import { PRECISION_FLAG, flagPrecision } from './precision-flag';
import { openSession } from './session';
import { headShape } from '../src/sampleattention/studies/tune';
import { forward } from '../src/model/forward';
import { writeSafetensors, type TensorToWrite } from '../src/model/loader/safetensors-format';
import { LimitError } from '../gpu/errors';

const SPEC: FlagSpec = {
  ...PRECISION_FLAG,
  ...MODEL_FLAGS,
  model: { kind: 'string', required: true, help: 'checkpoint folder (config.json, model.safetensors, tokenizer.json) or "default"' },
  ...ATTENTION_FLAGS,
  dump: { kind: 'string', help: 'write input_ids [S] I32, logits [S, vocab] F32, attn.<layer> [heads, S, S] F32 here (safetensors)' },
  ...HELP_FLAG,
};

export async function runCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, 'run', 'run a text through a model on WebGPU', SPEC)) return 0;
  const f = parseFlags('run', argv, SPEC);
  // --attention sample (implied by --config or a SampleAttention flag): every head's setting from
  // the flags (--variant tokens|blocks) or per head from --config; a broken file fails here.
  const sample = attentionChoice('run', f);
  const s = await openSession(f.model as string, f.text as string, f['max-tokens'] as number | undefined, false, flagPrecision('run', f));
  const dump = f.dump as string | undefined;
  const { config } = s.checkpoint;
  const S = s.ids.length;
  if (dump) {
    const bytes = config.numLayers * config.numHeads * S * S * 4;
    if (bytes > 2 ** 31) throw new LimitError(`--dump of ${S} tokens needs ${(bytes / 2 ** 30).toFixed(1)} GiB of attention maps, over the 2 GiB the dump allows: pass --max-tokens to shorten the text.`, bytes, 2 ** 31);
  }
  const perLayer: string[] = [];
  const attention = sample
    ? sampleAttentionOverride(s.ctx, { ...headShape(config), tensorCores: s.model.tensorCores }, sample.params({ name: s.checkpoint.name, config }), (l, heads) => {
        const mean = (k: 'recallMean' | 'density' | 'outputError') => heads.reduce((a, h) => a + (h[k] ?? 0), 0) / heads.length;
        perLayer.push(`  layer ${l}: recall ${mean('recallMean').toFixed(4)}, density ${mean('density').toFixed(4)}, output error ${mean('outputError').toExponential(2)}`);
      })
    : undefined;
  const t0 = performance.now();
  const out = await forward(s.model, s.ids, { captureAttention: Boolean(dump), attention });
  const ms = performance.now() - t0;
  console.log(`adapter: ${s.adapter}`);
  console.log(`model: ${s.checkpoint.name} (${config.family}, ${config.numLayers} layers, ${config.numHeads} heads, ${config.numKvHeads} kv heads)`);
  if (sample) console.log(`attention: ${sample.describe} (head means per layer; --dump maps stay the full attention)\n${perLayer.join('\n')}`);
  console.log(`tokens: ${S}; prefill: ${ms.toFixed(1)} ms (${((S * 1000) / ms).toFixed(0)} tokens/s, first call includes pipeline compilation)`);
  if (dump) {
    const tensors: TensorToWrite[] = [
      { name: 'input_ids', dtype: 'I32', shape: [S], data: s.ids },
      { name: 'logits', dtype: 'F32', shape: [S, config.vocabSize], data: out.logits },
      ...(out.attn ?? []).map((a, l) => ({ name: `attn.${l}`, dtype: 'F32' as const, shape: [config.numHeads, S, S], data: a })),
    ];
    writeFileSync(dump, writeSafetensors(tensors));
    console.log(`wrote ${dump}: input_ids, logits, attn.0 .. attn.${config.numLayers - 1}`);
  }
  s.model.dispose();
  return 0;
}
