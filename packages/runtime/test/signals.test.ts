import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { get } from './helpers/http.js';

const fixture = fileURLToPath(new URL('./fixtures/signal-service.ts', import.meta.url));

interface Child {
  proc: ChildProcess;
  nextLine: () => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startChild(shutdownTimeoutMs: number): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, String(shutdownTimeoutMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    exited,
    stderr: () => err,
    nextLine: () => {
      const l = lines.shift();
      if (l !== undefined) return Promise.resolve(l);
      return Promise.race([
        new Promise<string>((resolve) => waiters.push(resolve)),
        exited.then(({ code }) => {
          throw new Error(`child exited (${String(code)}) early: ${err}`);
        }),
      ]);
    },
  };
}

async function ready(child: Child): Promise<{ primaryPort: number; adminPort: number }> {
  const line = await child.nextLine();
  const m = /^READY (\d+) (\d+)$/.exec(line);
  assert.ok(m, `unexpected line ${line}`);
  return { primaryPort: Number(m[1]), adminPort: Number(m[2]) };
}

describe('signals', () => {
  it('SIGTERM finishes the in-flight request and exits 0', async () => {
    const child = startChild(10_000);
    try {
      const { primaryPort, adminPort } = await ready(child);
      assert.equal((await get(adminPort, '/health')).status, 200);
      const inFlight = get(primaryPort, '/slow');
      assert.equal(await child.nextLine(), 'ENTERED');
      child.proc.kill('SIGTERM');
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.deepEqual(await child.exited, { code: 0, signal: null });
      assert.match(child.stderr(), /"signal":"SIGTERM"/);
      assert.match(child.stderr(), /"msg":"stopped"/);
    } finally {
      child.proc.kill('SIGKILL');
    }
  });

  it('exits 1 when the deadline passes with a request still running', async () => {
    const child = startChild(300);
    try {
      const { primaryPort } = await ready(child);
      const inFlight = get(primaryPort, '/hang');
      assert.equal(await child.nextLine(), 'ENTERED');
      child.proc.kill('SIGINT');
      await assert.rejects(inFlight, { code: 'ECONNRESET' });
      assert.deepEqual(await child.exited, { code: 1, signal: null });
    } finally {
      child.proc.kill('SIGKILL');
    }
  });
});
