// Runs the CLI in this process (pipelines compiled once for all runs: SwiftShader takes seconds
// per kernel), capturing console.log (stdout) and stderr. process.stdout.write stays untouched:
// the test runner reports to its parent through it.
import { main } from '../../cli/main';

export async function cli(args: string[], env: Record<string, string> = {}): Promise<{ rc: number; out: string; err: string }> {
  let out = '', err = '';
  const saved = { log: console.log, error: console.error, stderr: process.stderr.write };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  console.log = (x: unknown) => { out += String(x) + '\n'; };
  console.error = (x: unknown) => { err += String(x) + '\n'; };
  process.stderr.write = ((x: string) => { err += x; return true; }) as typeof process.stderr.write;
  try {
    return { rc: await main(args), out, err };
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error });
    process.stderr.write = saved.stderr;
    for (const [k, v] of Object.entries(savedEnv)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}
