// Entry point bundled for the NVIDIA device (docs/benchmarks.md): `node sa-bench.mjs [bench flags]`
// runs `sa-studio bench` without tsx or node_modules.
import { benchCommand } from '../cli/bench';
try {
  process.exitCode = await benchCommand(process.argv.slice(2));
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
