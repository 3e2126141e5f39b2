import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface ChildCaduceus {
  proc: ChildProcess;
  base: string;
  adminBase: string;
  output: () => string;
}

/** Starts `src/main.ts --config <file>` in a child process; resolves once it listens. */
export async function startChild(
  dir: string,
  config: unknown,
  name = 'caduceus',
): Promise<ChildCaduceus> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(config));
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  let out = '';
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const ports = await new Promise<{ primaryPort: number; adminPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not start:\n${out}`)), 20_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('caduceus started')) continue;
        try {
          const j = JSON.parse(line) as { primaryPort: number; adminPort: number };
          clearTimeout(timer);
          resolve(j);
        } catch {
          // partial line
        }
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}:\n${out}`));
    });
  });
  return {
    proc,
    base: `http://127.0.0.1:${ports.primaryPort}`,
    adminBase: `http://127.0.0.1:${ports.adminPort}`,
    output: () => out,
  };
}

export function kill9(c: ChildCaduceus): Promise<void> {
  return new Promise((resolve) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
    c.proc.once('exit', () => resolve());
    c.proc.kill('SIGKILL');
  });
}
