#!/usr/bin/env node
// `npm start`: `xmidt start` (the whole system on one machine, see tools/xmidt). Arguments
// after `--` go to it: npm start -- --port-offset 1000 --data-dir /tmp/xmidt
import { spawn } from 'node:child_process';

const bin = new URL('../tools/xmidt/bin/xmidt.mjs', import.meta.url).pathname;
const child = spawn(process.execPath, [bin, 'start', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
// Ctrl-C reaches the whole foreground process group; a SIGTERM sent to this process alone
// is passed on.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
