// Entry point bundled for the NVIDIA device (docs/benchmarks.md): `node sa-studio.mjs <verb> ...`
// runs the whole `sa-studio` command line without tsx or node_modules.
import { main } from './main';
process.exitCode = await main(process.argv.slice(2));
