// Talaria under test: a temporary YAML config (static discovery naming only itself, no auth, no
// event endpoints, default ping/idle periods) and `services/talaria/src/main.ts` in a child
// process with the memory probe.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORM_BACKLOG } from './listen-queue.js';
import { REPO_ROOT, ServerProcess, freePort } from './server-process.js';

export interface TalariaUnderTest {
  server: ServerProcess;
  /** `http://127.0.0.1:<primary port>` */
  url: string;
  adminUrl: string;
  /** `xmidt_talaria_device_count` from the admin /metrics. */
  deviceCount(): Promise<number>;
  /** The value of an unlabelled metric from the admin /metrics (-1 when absent). */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startTalaria(
  opts: { maxDevices?: number; logLevel?: string } = {},
): Promise<TalariaUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'talaria-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, 'talaria.yaml');
  writeFileSync(
    config,
    [
      `log: { level: ${opts.logLevel ?? 'info'} }`,
      `url: ${url}`,
      `primary: { host: 127.0.0.1, port: ${port}, backlog: ${STORM_BACKLOG} }`,
      'admin: { host: 127.0.0.1, port: 0 }',
      'discovery:',
      '  type: static',
      '  datacenter: local',
      '  static:',
      `    services: { talaria: { local: ['${url}'] } }`,
      'device:',
      '  manager:',
      `    maxDevices: ${opts.maxDevices ?? 1_000_000}`,
      '  outbound:',
      '    eventEndpoints: {}',
      '',
    ].join('\n'),
  );
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(
      join(REPO_ROOT, 'services/talaria/src/main.ts'),
      ['--config', config],
      (line) => line['msg'] === 'talaria started',
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const adminUrl = `http://127.0.0.1:${String(server.started['adminPort'])}`;
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text);
    return m ? Number(m[1]) : -1;
  };
  return {
    server,
    url,
    adminUrl,
    metric,
    deviceCount: () => metric('xmidt_talaria_device_count'),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The bare comparison server (bench/lib/bare-ws-server.ts) with the memory probe. */
export interface BareUnderTest {
  server: ServerProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

/** The bare `ws` server, listening with the same backlog as the services under test. */
export async function startBareServer(): Promise<BareUnderTest> {
  const server = await ServerProcess.start(
    join(REPO_ROOT, 'bench/lib/bare-ws-server.ts'),
    ['--host', '127.0.0.1', '--backlog', String(STORM_BACKLOG)],
    (line) => typeof line['port'] === 'number',
  );
  return { server, url: `http://127.0.0.1:${String(server.started['port'])}` };
}
