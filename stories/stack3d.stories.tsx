// Components/Stack3D: the model as a 3D stack (@react-three/fiber) on the fixed fixture: floors
// are layers, tiles are heads, height is density and colour is recall.
import type { Meta, StoryObj } from '@storybook/react-vite';
import Stack3D from '../src/ui/components/Stack3D';
import { loadFixture } from './studio-fixtures';
import { StoryFrame } from './story-frame';

const meta = {
  title: 'Components/Stack3D',
  beforeEach: () => loadFixture(),
  render: () => (
    <StoryFrame expect=".stack3d canvas" width={640}>
      <Stack3D height={480} />
    </StoryFrame>
  ),
} satisfies Meta;
export default meta;

export const ThreeLayersFourHeads: StoryObj<typeof meta> = {};
