import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestEtcd {
  endpoint: string;
  dataDir: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

type StartEtcd = () => Promise<TestEtcd>;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The shared helper from @xmidt/testkit when it is there; else /usr/bin/etcd started here. */
export async function startTestEtcd(): Promise<TestEtcd> {
  const kit = (await import('@xmidt/testkit').catch(() => ({}))) as { startEtcd?: StartEtcd };
  if (typeof kit.startEtcd === 'function') return kit.startEtcd();
  return startLocalEtcd();
}

async function startLocalEtcd(): Promise<TestEtcd> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caduceus-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const endpoint = `http://127.0.0.1:${client}`;
  let proc: ChildProcess | undefined;
  const launch = async () => {
    proc = spawn(
      '/usr/bin/etcd',
      [
        '--name',
        'test',
        '--data-dir',
        join(dataDir, 'data'),
        '--listen-client-urls',
        endpoint,
        '--advertise-client-urls',
        endpoint,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `test=http://127.0.0.1:${peer}`,
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const r = await fetch(`${endpoint}/health`);
        if (r.ok) return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error('etcd did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      const p = proc;
      if (!p || p.exitCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  await launch();
  return {
    endpoint,
    dataDir,
    async stop() {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await launch();
    },
  };
}
