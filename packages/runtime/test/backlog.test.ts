import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { DEFAULT_BACKLOG, ServiceRuntime, createLogger } from '@xmidt/runtime';

// `ss -ltn` shows a listening socket's accept-queue limit in its Send-Q column; the kernel
// caps it at net.core.somaxconn.
function listenBacklog(port: number): number {
  const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
  const fields = out.trim().split(/\s+/);
  return Number(fields[2]);
}

function somaxconn(): number {
  const path = '/proc/sys/net/core/somaxconn';
  return existsSync(path) ? Number(execFileSync('cat', [path], { encoding: 'utf8' })) : Infinity;
}

it(
  'listens with the configured backlog, and a large one by default',
  { skip: !existsSync('/usr/bin/ss') && !existsSync('/bin/ss') },
  async () => {
    const rt = new ServiceRuntime({
      service: 'backlog',
      primary: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0, backlog: 7 },
      logger: createLogger({ service: 'backlog', level: 'silent' }),
    });
    const { primaryPort, adminPort } = await rt.start();
    try {
      assert.equal(listenBacklog(primaryPort), Math.min(DEFAULT_BACKLOG, somaxconn()));
      assert.equal(listenBacklog(adminPort), 7);
    } finally {
      await rt.stop();
    }
  },
);
