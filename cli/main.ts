// `sa-studio <verb> ...`: the headless command line. Each verb lives in its own file and
// returns an exit status: 0 done, 2 bad usage or bad input (a broken checkpoint, config or capture
// file, a text past the model's context, a model whose numbers are not finite: the library's
// InputError family, printed as one line without a stack trace), 1 anything else (a bug, or the
// machine: no GPU, a write that failed).
import { UsageError } from './args';
import { InputError, oneLine } from '../gpu/errors';

type Verb = { summary: string; run: (argv: string[]) => Promise<number> };

const VERBS: Record<string, Verb> = {
  run: { summary: 'tokenize a text, run the prefill on WebGPU, optionally dump logits and attention', run: async (a) => (await import('./run')).runCommand(a) },
  perplexity: { summary: 'next-token loss, perplexity and bits per byte of a text', run: async (a) => (await import('./perplexity')).perplexityCommand(a) },
  capture: { summary: 'write post-RoPE q and k of every layer for `select`', run: async (a) => (await import('./capture')).captureCommand(a) },
  maps: { summary: 'per-head recall and density of a text, and pictures of chosen heads', run: async (a) => (await import('./maps')).mapsCommand(a) },
  select: { summary: 'SampleAttention selection and measures for captured q/k', run: async (a) => (await import('./select')).selectCommand(a) },
  eval: { summary: 'near-lossless check: dense vs SampleAttention KL, top-1, perplexity, recall, density, passkey retrieval', run: async (a) => (await import('./eval')).evalCommand(a) },
  tune: { summary: 'per head, the lowest-density SampleAttention setting meeting a recall target on every text; writes a config', run: async (a) => (await import('./tune')).tuneCommand(a) },
  apply: { summary: 'reuse a saved per-head config on a new text: per-layer recall and density', run: async (a) => (await import('./apply')).applyCommand(a) },
  convert: { summary: 'a per-head config as MInference\'s per-head file (--to minference): vertical_size and slash_size per head', run: async (a) => (await import('./convert')).convertCommand(a) },
  rivals: { summary: 'recall-vs-density curves of SampleAttention (variants tokens and blocks) and its rivals (StreamingLLM, vertical-slash, block top-k, oracle) on the model\'s heads', run: async (a) => (await import('./rivals')).rivalsCommand(a) },
  generate: { summary: 'greedy continuation with a KV cache (dense or SampleAttention prefill, dense decode steps)', run: async (a) => (await import('./generate')).generateCommand(a) },
  ttft: { summary: 'time to first token (whole-model prefill) dense vs SampleAttention at long lengths, with KL and top-1 of the final logits', run: async (a) => (await import('./ttft')).ttftCommand(a) },
  bench: { summary: 'time dense, stage 1 + 2 and sparse attention; prefill and matmul with --forward', run: async (a) => (await import('./bench')).benchCommand(a) },
};

function help(): string {
  const w = Math.max(...Object.keys(VERBS).map((k) => k.length));
  return [
    'sa-studio: SampleAttention Studio command line',
    '',
    ...Object.entries(VERBS).map(([k, v]) => `  ${k.padEnd(w)}  ${v.summary}`),
    '',
    'Run `sa-studio <verb> --help` for its flags. --model default means the bundled model (public/models/default).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(help());
    return verb ? 0 : 2;
  }
  const v = VERBS[verb];
  if (!v) {
    console.error(`sa-studio: unknown verb "${verb}".\n\n${help()}`);
    return 2;
  }
  try {
    return await v.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      return 2;
    }
    if (e instanceof InputError) {
      console.error(`sa-studio ${verb}: ${oneLine(e.message)}`);
      if (process.env.SA_STUDIO_DEBUG) console.error(e.stack);
      return 2;
    }
    console.error(`sa-studio ${verb}: ${(e as Error).message}`);
    if (process.env.SA_STUDIO_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}
