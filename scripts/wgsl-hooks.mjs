// Node module hooks: `import code from './x.wgsl'` yields the WGSL source as a string, as Vite
// and esbuild (--loader:.wgsl=text) do, so kernels run unchanged under Node's test runner.
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (url.endsWith('.wgsl')) {
    const source = await readFile(new URL(url), 'utf8');
    return { format: 'module', shortCircuit: true, source: `export default ${JSON.stringify(source)};` };
  }
  return nextLoad(url, context);
}
