// Mosquitto under test: its own config file (one listener on a free loopback port, no connection
// limit, no persistence, no logging to disk), started by the benchmark and stopped after it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, vmRss } from './proc-rss.js';
import { freePort } from './server-process.js';

export const MOSQUITTO = process.env['MOSQUITTO'] ?? '/usr/sbin/mosquitto';

export interface MosquittoUnderTest {
  child: ChildProcess;
  host: string;
  port: number;
  rss(): number;
  cpuMs(): number;
  stop(): Promise<void>;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startMosquitto(host = '127.0.0.1'): Promise<MosquittoUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-bench-'));
  const port = await freePort(host);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} ${host}`,
      'allow_anonymous true',
      'max_connections -1',
      'persistence false',
      'log_dest none',
      'max_keepalive 65535',
      'set_tcp_nodelay true',
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(host, port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid ?? 0;
  return {
    child,
    host,
    port,
    rss: () => vmRss(pid),
    cpuMs: () => cpuMs(pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
