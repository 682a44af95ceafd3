// One palette for every chart: the studio's canvases and SVGs (head view, measures, stage-2
// curve, rivals plot) and the CLI's standalone SVG (rivals-svg.ts). Pure data, no DOM.
import type { PatternName } from '../sampleattention/studies/rivals';

/** The colours of SampleAttention's stages and the charts' furniture (dark theme). */
export const PALETTE = {
  background: '#0b0c10',
  grid: '#262a33',
  axisText: '#9aa3b2',
  text: '#e6e8ee',
  /** Stage 1: sampled query rows. */
  sampledRows: '#50dcff',
  /** Stage 1: column scores (and SampleAttention itself in comparisons). */
  scores: '#f2b84b',
  /** Stage 2: kept key stripes, kept recall. */
  kept: '#5fd39a',
  /** The local window. */
  window: '#78aaff',
  /** Outside the mask (dimmed). */
  outside: '#30333a',
  /** Attention mass the mask misses. */
  missed: '#ff4040',
  /** The attention map's colour scale, as a CSS gradient for legends. */
  attentionGradient: 'linear-gradient(90deg,#000004,#bb3754,#fcffa4)',
} as const;

/** Each rival pattern's colour on a dark and a light background, its label and dash. */
export const PATTERNS: Record<PatternName, { dark: string; light: string; label: string; dash?: string }> = {
  sampleattention: { dark: PALETTE.scores, light: '#d9480f', label: 'SampleAttention (tokens)' },
  // Cyan, away from the other rivals' blues and greens: the `blocks` variant beside `tokens`.
  'sampleattention-blocks': { dark: '#3bc9db', light: '#0c8599', label: 'SampleAttention (blocks)' },
  streamingllm: { dark: PALETTE.window, light: '#1971c2', label: 'StreamingLLM' },
  'vertical-slash': { dark: '#c38bff', light: '#7048e8', label: 'Vertical-slash (MInference)' },
  'block-topk': { dark: PALETTE.kept, light: '#2b8a3e', label: 'Block top-k (XAttention)' },
  oracle: { dark: PALETTE.text, light: '#495057', label: 'Oracle (top entries of P)', dash: '6 4' },
  minference: { dark: '#ff7eb6', light: '#c2255c', label: 'MInference config (file)' },
};
