#!/usr/bin/env node
// `npm start`: the whole system on one machine with embedded defaults (see tools/xmidt).
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'tools/xmidt/src/main.ts', 'start', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
