// Runs `xmidt simulate` on its own: node --import tsx tools/xmidt/src/simulate-main.ts --help
import { runSimulate } from './commands/simulate.js';

process.exitCode = await runSimulate(process.argv.slice(2));
