// Components/HeadView: the chosen head's map with SampleAttention's overlays, fed the fixed
// fixture (stories/studio-fixtures.ts) through the store, at three steps of the overlay stepper.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { HeadView } from '../src/ui/components/head-view/HeadView';
import { loadFixture } from './studio-fixtures';
import { StoryFrame } from './story-frame';

interface Args { overlay: number }

const meta = {
  title: 'Components/HeadView',
  args: { overlay: 0 },
  argTypes: { overlay: { control: { type: 'range', min: 0, max: 6, step: 1 }, description: 'overlays shown: 0 .. overlay (OVERLAYS in src/state/store.ts)' } },
  beforeEach: ({ args }) => loadFixture({ overlay: (args as Args).overlay }),
  render: () => (
    <StoryFrame expect='[data-testid="head-title"]' width={820}>
      <HeadView size={480} />
    </StoryFrame>
  ),
} satisfies Meta<Args>;
export default meta;

export const AttentionMap: StoryObj<typeof meta> = {};
export const SampledRowsAndScores: StoryObj<typeof meta> = { args: { overlay: 2 } };
export const SelectedStripesAndWindow: StoryObj<typeof meta> = { args: { overlay: 4 } };
export const FinalMaskAndMissedMass: StoryObj<typeof meta> = { args: { overlay: 6 } };
