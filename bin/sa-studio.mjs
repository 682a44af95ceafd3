#!/usr/bin/env node
// `npx sa-studio ...`: runs the TypeScript command line (cli/main.ts) through tsx, with .wgsl
// imports loaded as text, so the CLI uses exactly the kernels the browser uses.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
try {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
} catch (e) {
  console.error(`sa-studio needs the project's dev dependencies (tsx): run \`npm ci\` in ${root}. (${e.message})`);
  process.exit(2);
}
register(pathToFileURL(join(root, 'scripts/wgsl-hooks.mjs')));
const { main } = await import(pathToFileURL(join(root, 'cli/main.ts')).href);
process.exitCode = await main(process.argv.slice(2));
