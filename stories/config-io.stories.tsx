// Components/ConfigIO: the config panel after importing a wrong file, through the real action
// (importConfig in src/state/config-io.ts) and validator, so the message shown is the one a user
// gets. The fixture model (3 layers x 4 heads) is open in the store.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { ConfigIO } from '../src/ui/components/ConfigIO';
import { importConfig } from '../src/state/config-io';
import { buildConfig, serializeConfig } from '../src/sampleattention/formats/config-file';
import { loadFixture } from './studio-fixtures';
import { StoryFrame } from './story-frame';

const importText = async (name: string, text: string) => {
  loadFixture();
  await importConfig(new File([text], name, { type: 'application/json' }));
};

const otherModel = () =>
  serializeConfig(buildConfig({
    model: { name: 'other-2x2', family: 'qwen2', layers: 2, heads: 2, kvHeads: 1, headDim: 64 },
    text: { tokens: 100 },
    defaults: { alpha: 0.95, rowRatio: 0.05, windowRatio: 0.08 },
    params: [0, 1].map(() => [0, 1].map(() => ({ alpha: 0.95, rowRatio: 0.05, windowRatio: 0.08 }))),
  }));

const meta = {
  title: 'Components/ConfigIO',
  render: () => (
    <StoryFrame expect='[data-testid="config-message"]' width={320}>
      <ConfigIO />
    </StoryFrame>
  ),
} satisfies Meta;
export default meta;

export const NotJson: StoryObj<typeof meta> = { beforeEach: () => importText('notes.json', '{ "version": 1, "model": ') };

export const SchemaErrors: StoryObj<typeof meta> = {
  beforeEach: () => importText('broken.json', JSON.stringify({ version: 2, model: { name: 'x' }, defaults: { alpha: 1.5, rowRatio: 0, windowRatio: 0.1 }, layers: 'all' })),
};

export const ForAnotherModel: StoryObj<typeof meta> = { beforeEach: () => importText('other-2x2.json', otherModel()) };
