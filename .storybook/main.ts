// Storybook (React + Vite builder). The builder starts from the project's vite.config.ts, so the
// studio's plugins apply; viteFinal makes sure the WGSL loader (wgsl-plugin.ts) is there, since
// every kernel imports its shader source as a string. No addons: controls and the canvas are in core.
import type { StorybookConfig } from '@storybook/react-vite';
import type { PluginOption } from 'vite';
import { wgsl } from '../wgsl-plugin.ts';

const hasPlugin = (list: PluginOption[] | undefined, name: string): boolean =>
  (list ?? []).some((p) => (Array.isArray(p) ? hasPlugin(p, name) : !!p && typeof p === 'object' && 'name' in p && p.name === name));

const config: StorybookConfig = {
  stories: ['../stories/**/*.stories.@(ts|tsx)'],
  framework: { name: '@storybook/react-vite', options: {} },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  async viteFinal(cfg) {
    if (!hasPlugin(cfg.plugins, 'wgsl-as-text')) cfg.plugins = [wgsl(), ...(cfg.plugins ?? [])];
    // The stories use no model files or bundled texts: do not copy public/ (17 MB) into the build.
    cfg.publicDir = false;
    return cfg;
  },
};
export default config;
