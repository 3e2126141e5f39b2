import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `xmidt` command as users run it. */
export const XMIDT_BIN = fileURLToPath(new URL('../bin/xmidt.mjs', import.meta.url));

export interface XmidtRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `xmidt <args>` to completion, with `env` added to this process's environment. */
export function runXmidt(args: string[], env: Record<string, string> = {}): Promise<XmidtRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XMIDT_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
