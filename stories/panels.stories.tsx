// Components/Panels: the sliders, measures and overview panels on the fixed fixture
// (stories/studio-fixtures.ts) set into the store before each story.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { Sliders } from '../src/ui/components/Sliders';
import { Measures } from '../src/ui/components/Measures';
import { Overview } from '../src/ui/components/Overview';
import { loadFixture } from './studio-fixtures';
import { StoryFrame } from './story-frame';

const meta = {
  title: 'Components/Panels',
  beforeEach: () => loadFixture(),
} satisfies Meta;
export default meta;

export const SlidersPanel: StoryObj<typeof meta> = {
  render: () => (
    <StoryFrame expect='[data-testid="value-alpha"]' width={300}>
      <Sliders />
    </StoryFrame>
  ),
};

export const SlidersBeforeARun: StoryObj<typeof meta> = {
  beforeEach: () => loadFixture({ prefill: null, chosen: null, timing: null }),
  render: () => (
    <StoryFrame expect='input[type="range"]:disabled' width={300}>
      <Sliders />
    </StoryFrame>
  ),
};

export const MeasuresPanel: StoryObj<typeof meta> = {
  render: () => (
    <StoryFrame expect='[data-testid="latency"]' width={330}>
      <Measures />
    </StoryFrame>
  ),
};

export const OverviewGrid: StoryObj<typeof meta> = {
  render: () => (
    <StoryFrame expect=".overview canvas" width={600}>
      <Overview width={600} />
    </StoryFrame>
  ),
};
