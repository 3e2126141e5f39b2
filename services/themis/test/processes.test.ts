import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { createJwtVerifier } from '@xmidt/auth';
import { sleep, startThemis, tempDir } from './helpers.js';

describe('themis issuer workers (Node cluster)', () => {
  it('issues from every worker with the active key, follows rotations, counts in the primary', async () => {
    const t = await startThemis({
      servers: { issuer: { workers: 2 } },
      token: { key: { directory: '' } },
    });
    try {
      assert.equal(t.themis.issuer, undefined);
      const url = `http://127.0.0.1:${t.ports.issuerPort}/issue`;
      const v = createJwtVerifier({ keysUrl: `http://127.0.0.1:${t.ports.keyPort}/keys/{kid}` });
      const first = t.themis.keys.active().kid;
      // fresh connections are spread over the workers
      for (let i = 0; i < 6; i++) {
        const token = await (await fetch(url, { headers: { connection: 'close' } })).text();
        assert.equal(decodeProtectedHeader(token).kid, first);
        await v.verify(token);
      }
      const rotated = await t.themis.rotate();
      // the key reaches the workers over IPC: wait until every answer uses it
      let seen = 0;
      for (let i = 0; i < 200 && seen < 6; i++) {
        const token = await (await fetch(url, { headers: { connection: 'close' } })).text();
        seen = decodeProtectedHeader(token).kid === rotated.kid ? seen + 1 : 0;
        if (seen === 0) await sleep(20);
      }
      assert.equal(seen, 6);
      await sleep(1300); // workers report their counters every second
      const metrics = await (await fetch(`http://127.0.0.1:${t.ports.adminPort}/metrics`)).text();
      const m = /xmidt_themis_tokens_issued_total\{alg="RS256",outcome="success"\} (\d+)/.exec(
        metrics,
      );
      assert.ok(m && Number(m[1]) >= 12, metrics);
    } finally {
      await t.stop();
    }
  });
});

describe('themis main.ts', () => {
  it('starts from --config, issues, rotates on schedule, and exits 0 on SIGTERM', async () => {
    const tmp = tempDir();
    const cfg = join(tmp.dir, 'themis.yaml');
    writeFileSync(
      cfg,
      [
        'log: { level: info }',
        'servers:',
        '  key: { host: 127.0.0.1, port: 0 }',
        '  issuer: { host: 127.0.0.1, port: 0 }',
        '  admin: { host: 127.0.0.1, port: 0 }',
        'token:',
        '  alg: ES256',
        `  key: { directory: ${JSON.stringify(join(tmp.dir, 'keys'))}, rotateEvery: 1s }`,
        '',
      ].join('\n'),
    );
    const root = new URL('../../../', import.meta.url).pathname;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'services/themis/src/main.ts'), '--config', cfg],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      let ports: { issuerPort: number; keyPort: number } | undefined;
      let rotations = 0;
      for await (const line of lines) {
        const rec = JSON.parse(line) as { msg?: string; issuerPort?: number; keyPort?: number };
        if (rec.msg === 'themis started') {
          ports = rec as { issuerPort: number; keyPort: number };
          const token = await (await fetch(`http://127.0.0.1:${ports.issuerPort}/issue`)).text();
          assert.equal(decodeProtectedHeader(token).alg, 'ES256');
        }
        if (rec.msg === 'signing key rotated' && ++rotations === 2) break;
      }
      assert.ok(ports);
      const set = (await (
        await fetch(`http://127.0.0.1:${ports.keyPort}/.well-known/jwks.json`)
      ).json()) as {
        keys: unknown[];
      };
      assert.equal(set.keys.length, 3); // active + two retired, still needed for 24h tokens
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      tmp.remove();
    }
  });
});
