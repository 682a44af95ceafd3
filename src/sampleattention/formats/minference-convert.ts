// A studio per-head config (config-file.ts) as MInference's per-head file (minference-file.ts).
// Each head becomes ["vertical_and_slash", vertical_size, slash_size, recall]; how the sizes are
// derived (docs/tune-eval.md, "sa-studio convert"):
// - slash_size: SampleAttention's local window in tokens, the diagonals its mask keeps:
//   max(w, 1) with w = ceil(windowRatio * S) (docs/SAMPLEATTENTION.md step 7; params.ts windowSize).
// - vertical_size: the number of key columns SampleAttention selected, |I_KV|.
//   'exact': re-run with the float64 reference (selectHead) on a capture of q/k.
//   'estimated': from the measured density alone. The mask's count is the window's entries plus,
//   for each selected key j outside the window, the S - j - w' rows below it (mask.ts maskCount).
//   Key positions are unknown, so each key is taken to add the mean over all positions outside
//   the window, (S - w' + 1) / 2; exact whenever the kept keys sit symmetrically about the middle
//   of 0..S-w'-1, and keys inside the window (which add no density) are not seen.
// - recall: the head's measured recallMean (else the reference's on the capture).
// S is the capture's length when one is given, else the config's text.tokens.
import { ConfigError, type HeadMeasures, type SampleConfig } from './config-file';
import type { TokensSetting } from '../spec/setting';
import type { MInferenceConfig, MInferenceHead } from './minference-file';
import { causalCount } from '../studies/rivals-masks';
import { effectiveWindow, kvHeadOf, headView, selectHead, windowSize } from '../spec/reference';
import type { QkTensors } from './qk-file';

export type VerticalSource = 'exact' | 'estimated';

/** Diagonals SampleAttention's window keeps at length S. */
export const slashSizeOf = (S: number, windowRatio: number) => effectiveWindow(windowSize(S, windowRatio));

/** Entries the window alone keeps: rows i < w' keep i + 1, the rest w'. */
const windowEntries = (S: number, we: number) => (we * (we + 1)) / 2 + (S - we) * we;

/** |I_KV| outside the window, estimated from a head's density (see the file's comment). */
export function estimateVerticalSize(S: number, windowRatio: number, density: number): number {
  const we = Math.min(S, slashSizeOf(S, windowRatio));
  const outside = S - we;
  if (outside === 0) return 0;
  const extra = density * causalCount(S) - windowEntries(S, we);
  return Math.min(outside, Math.max(0, Math.round(extra / ((outside + 1) / 2))));
}

export interface ConvertedHead { layer: number; head: number; verticalSize: number; slashSize: number; recall: number }

export interface Converted {
  minference: MInferenceConfig;
  /** How vertical_size was found: re-run on a capture, or from the measured density. */
  vertical: VerticalSource;
  /** The length the sizes are in tokens of. */
  S: number;
  heads: ConvertedHead[];
  /** A mismatch worth telling (the capture's length differs from the config's text), or null. */
  warning: string | null;
}

/** The studio config as MInference's file. `capture(l)` gives layer l's q/k (sa-studio capture's
 * q.<l>, k.<l>) for exact vertical sizes; without it the sizes are estimated. Layers are read and
 * converted one at a time, so a capture larger than memory converts: only one layer is held. */
export async function toMInference(cfg: SampleConfig, source: string, capture?: (layer: number) => QkTensors | Promise<QkTensors>): Promise<Converted> {
  const problems: string[] = [];
  const blocks = cfg.layers.flatMap((layer, l) => layer.heads.flatMap((h, i) => (h.variant === 'blocks' ? [`layers[${l}].heads[${i}].variant: blocks heads have no MInference vertical_and_slash pattern (its slash lines are diagonals, not bands of blocks); convert a config of tokens heads`] : [])));
  if (blocks.length) throw new ConfigError(blocks, source, 'cannot be converted to MInference');
  let S = cfg.text.tokens;
  const heads: ConvertedHead[] = [];
  const minference: MInferenceConfig = [];
  for (let l = 0; l < cfg.layers.length; l++) {
    const cap = capture ? await capture(l) : undefined;
    if (cap) {
      const m = cfg.model;
      if (cap.heads !== m.heads || cap.kvHeads !== m.kvHeads || cap.d !== m.headDim) {
        throw new ConfigError([`model: the config is for ${m.heads} heads / ${m.kvHeads} kv heads / headDim ${m.headDim}, the capture's layer ${l} has ${cap.heads} / ${cap.kvHeads} / ${cap.d}`], source, 'does not fit the capture');
      }
      if (l === 0) S = cap.S; // sa-studio capture's layers all have one length
    }
    minference.push(new Map((cfg.layers[l].heads as (TokensSetting & { measured?: HeadMeasures })[]).map((h, i): [number, MInferenceHead] => {
      let verticalSize: number, recall = h.measured?.recallMean;
      if (cap) {
        const g = kvHeadOf(i, cap.heads, cap.kvHeads);
        const sel = selectHead(headView(cap.q, i, cap.S, cap.d), headView(cap.k, g, cap.S, cap.d), cap.S, cap.d, h);
        verticalSize = sel.selectedKeys.length;
        recall ??= sel.recallMean;
      } else if (h.measured) {
        verticalSize = estimateVerticalSize(S, h.windowRatio, h.measured.density);
      } else {
        problems.push(`layers[${l}].heads[${i}].measured: missing, so vertical_size cannot be estimated; pass the capture (--qk) to re-run the selection`);
        verticalSize = 0;
      }
      const slashSize = slashSizeOf(S, h.windowRatio);
      heads.push({ layer: l, head: i, verticalSize, slashSize, recall: recall ?? 0 });
      return [i, { pattern: 'vertical_and_slash', verticalSize, slashSize, score: recall ?? 0 }];
    })));
  }
  if (problems.length) throw new ConfigError(problems, source, 'cannot be converted to MInference');
  const warning = capture && S !== cfg.text.tokens
    ? `the capture has ${S} tokens and the config was measured on ${cfg.text.tokens}: the sizes are for ${S} tokens and the recall is the config's (measured on its own text).`
    : null;
  return { minference, vertical: capture ? 'exact' : 'estimated', S, heads, warning };
}
