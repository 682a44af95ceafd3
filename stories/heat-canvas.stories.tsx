// Components/HeatCanvas: the map component on a fixed synthetic attention-like map (a decaying
// diagonal band, two sink columns, causal), so its colour scale and gamma can be judged alone.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { HeatCanvas } from '../src/ui/components/HeatCanvas';
import { StoryFrame } from './story-frame';

function syntheticMap(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let j = 0; j <= i; j++) z += m[i * n + j] = Math.exp(-(i - j) / 3) + (j === 0 ? 2 : 0) + (j === Math.floor(n / 3) ? 0.8 : 0);
    for (let j = 0; j <= i; j++) m[i * n + j] /= z;
  }
  return m;
}

interface Args { n: number; gamma: number; size: number }

const meta = {
  title: 'Components/HeatCanvas',
  args: { n: 64, gamma: 0.4, size: 320 },
  argTypes: {
    n: { control: { type: 'number', min: 2, max: 512 } },
    gamma: { control: { type: 'range', min: 0.1, max: 1, step: 0.05 } },
    size: { control: { type: 'number', min: 32, max: 800 } },
  },
  render: ({ n, gamma, size }: Args) => (
    <StoryFrame expect="canvas.map">
      <HeatCanvas values={syntheticMap(n)} rows={n} cols={n} size={size} gamma={gamma} label="synthetic attention map" />
    </StoryFrame>
  ),
} satisfies Meta<Args>;
export default meta;

export const AttentionLike: StoryObj<typeof meta> = {};
export const Linear: StoryObj<typeof meta> = { args: { gamma: 1 } };
