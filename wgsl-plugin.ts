import { readFile } from 'node:fs/promises';
import type { Plugin } from 'vite';

/** Loads `*.wgsl` files as strings, so kernels import their shader source the same way in Vite,
 * Vitest and the esbuild-bundled command line (which uses esbuild's `text` loader). */
export function wgsl(): Plugin {
  return {
    name: 'wgsl-as-text',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith('.wgsl')) return null;
      const code = await readFile(id, 'utf8');
      return `export default ${JSON.stringify(code)};`;
    },
  };
}
