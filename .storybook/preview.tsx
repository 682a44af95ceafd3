// Every story gets the studio's stylesheet (dark theme, panels) so components look as in the app.
import type { Preview } from '@storybook/react-vite';
import '../src/ui/studio.css';

const preview: Preview = {
  parameters: {
    layout: 'padded',
    controls: { expanded: true },
  },
};
export default preview;
