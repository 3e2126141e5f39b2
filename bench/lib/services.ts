// The XMiDT services a scenario runs, each in its own process from its YAML config in a
// temporary directory: Themis (device JWTs), Petasos (redirects), Scytale (API fan-out),
// Caduceus (webhooks) and Talaria (with the options the scenarios need). With BENCH_CPU_PROF
// set to a directory, every service writes a V8 CPU profile there when it stops.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NODE_FLAGS, type ServiceName } from '@xmidt/cli';
import { STORM_BACKLOG } from './listen-queue.js';
import { REPO_ROOT, ServerProcess, freePort } from './server-process.js';

export interface ServiceUnderTest {
  server: ServerProcess;
  /** `http://<host>:<primary port>` */
  url: string;
  /** The JSON start line. */
  started: Record<string, unknown>;
  /** The value of an unlabelled metric (summed over label sets) from the admin /metrics. */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

function profArgs(name: string): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  // One directory per service and node's default file names (they carry the thread id), so
  // the tsx loader thread's profile does not replace the main thread's.
  return dir ? ['--cpu-prof', '--cpu-prof-dir', join(dir, name)] : [];
}

async function startService(
  name: ServiceName,
  yaml: (dir: string) => string[],
  isStarted: (line: Record<string, unknown>) => boolean,
  url: (started: Record<string, unknown>) => string,
  adminPort: (started: Record<string, unknown>) => unknown = (s) => s['adminPort'],
): Promise<ServiceUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-bench-`));
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, yaml(dir).join('\n') + '\n');
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(
      join(REPO_ROOT, `services/${name}/src/main.ts`),
      ['--config', config],
      isStarted,
      60_000,
      // the V8 flags `xmidt` runs the service with, so that it is measured as it is deployed
      [...(SERVICE_NODE_FLAGS[name] ?? []), ...profArgs(name)],
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const started = server.started;
  const admin = `http://127.0.0.1:${String(adminPort(started))}`;
  return {
    server,
    url: url(started),
    started,
    async metric(metric: string) {
      const text = await (await fetch(`${admin}/metrics`)).text();
      let sum = 0;
      let found = false;
      for (const m of text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)`, 'gm'))) {
        sum += Number(m[1]);
        found = true;
      }
      return found ? sum : -1;
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const msgIs = (m: string) => (l: Record<string, unknown>) => l['msg'] === m;

/** Themis signing RS256 device tokens; `url` is the issuer, `keysUrl` the key template. */
export async function startThemis(
  opts: { workers?: number } = {},
): Promise<ServiceUnderTest & { keysUrl: string }> {
  const s = await startService(
    'themis',
    (dir) => [
      'log: { level: info }',
      'servers:',
      '  key: { host: 127.0.0.1, port: 0 }',
      `  issuer: { host: 127.0.0.1, port: 0, maxConcurrentRequests: 0, workers: ${opts.workers ?? 1} }`,
      '  admin: { host: 127.0.0.1, port: 0 }',
      'token:',
      '  alg: RS256',
      `  key: { directory: ${JSON.stringify(join(dir, 'keys'))} }`,
    ],
    msgIs('themis started'),
    (st) => `http://127.0.0.1:${String(st['issuerPort'])}`,
  );
  return { ...s, keysUrl: `http://127.0.0.1:${String(s.started['keyPort'])}/keys/{kid}` };
}

export type DiscoveryYaml = { static: Record<string, string[]> } | { etcd: string };

function discoveryYaml(d: DiscoveryYaml): string[] {
  if ('etcd' in d) {
    return [
      'discovery:',
      '  type: etcd',
      '  datacenter: dc1',
      `  etcd: { endpoints: ['${d.etcd}'], prefix: /xmidt-bench, leaseTtlSeconds: 10 }`,
    ];
  }
  return [
    'discovery:',
    '  type: static',
    '  datacenter: dc1',
    '  static:',
    '    services:',
    ...Object.entries(d.static).map(
      ([svc, urls]) => `      ${svc}: { dc1: ${JSON.stringify(urls)} }`,
    ),
  ];
}

export interface TalariaOptions {
  host?: string;
  /** Known in advance so the config can name the instance's own URL. */
  port?: number;
  discovery?: DiscoveryYaml;
  /** Key URL template of Themis: devices must present a JWT. */
  jwtKeysUrl?: string;
  /** Caduceus notify URL for every device event. */
  eventEndpoint?: string;
  logLevel?: string;
}

/** Talaria; without a discovery option its static ring names only itself. */
export async function startTalariaService(o: TalariaOptions = {}): Promise<ServiceUnderTest> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? (await freePort(host));
  const url = `http://${host}:${port}`;
  return startService(
    'talaria',
    () => [
      `log: { level: ${o.logLevel ?? 'info'} }`,
      `url: ${url}`,
      `primary: { host: ${host}, port: ${port}, backlog: ${STORM_BACKLOG} }`,
      'admin: { host: 127.0.0.1, port: 0 }',
      ...discoveryYaml(o.discovery ?? { static: { talaria: [url] } }),
      ...(o.jwtKeysUrl
        ? ['deviceAuth:', `  jwt: { keysUrl: '${o.jwtKeysUrl}', algorithms: [RS256] }`]
        : []),
      'auth: { basic: [ "bench:bench" ] }',
      'device:',
      '  manager:',
      '    maxDevices: 1000000',
      '  outbound:',
      '    defaultScheme: http',
      '    allowedSchemes: [http]',
      '    outboundQueueSize: 100000',
      o.eventEndpoint
        ? `    eventEndpoints: { default: '${o.eventEndpoint}' }`
        : '    eventEndpoints: {}',
    ],
    msgIs('talaria started'),
    () => url,
  );
}

/** Petasos redirecting to the Talaria instances of `discovery`. */
export async function startPetasos(discovery: DiscoveryYaml): Promise<ServiceUnderTest> {
  return startService(
    'petasos',
    () => [
      `primary: { host: 127.0.0.1, port: 0, backlog: ${STORM_BACKLOG} }`,
      'admin: { host: 127.0.0.1, port: 0 }',
      'log: { level: info }',
      ...discoveryYaml(discovery),
    ],
    msgIs('petasos started'),
    (st) => `http://127.0.0.1:${String(st['primaryPort'])}`,
  );
}

/** Scytale fanning `device/send` out to the Talaria instances of `discovery`, Basic bench:bench. */
export async function startScytale(discovery: DiscoveryYaml): Promise<ServiceUnderTest> {
  return startService(
    'scytale',
    () => [
      'primary: { host: 127.0.0.1, port: 0 }',
      'admin: { host: 127.0.0.1, port: 0 }',
      'log: { level: info }',
      ...discoveryYaml(discovery),
      'auth: { basic: [ "bench:bench" ] }',
      'fanout: { authorization: "bench:bench" }',
    ],
    msgIs('scytale started'),
    (st) => `http://127.0.0.1:${String(st['primaryPort'])}`,
  );
}

/** Caduceus with an in-memory store, loopback webhooks allowed, no retries. */
export async function startCaduceus(
  opts: { workersPerSender?: number; connectionsPerOrigin?: number } = {},
): Promise<ServiceUnderTest> {
  return startService(
    'caduceus',
    () => [
      JSON.stringify({
        primary: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        log: { level: 'info' },
        store: { type: 'memory' },
        intake: { maxOutstanding: 100000 },
        sender: {
          numWorkersPerSender: opts.workersPerSender ?? 16,
          maxConnectionsPerOrigin: opts.connectionsPerOrigin ?? 64,
          queueSizePerSender: 1_000_000,
          deliveryRetries: 0,
          disablePartnerIDs: true,
        },
        webhook: {
          maxRegistrations: 1000,
          validation: { url: { allowLoopback: true, allowIP: true, allowPrivate: true } },
        },
      }),
    ],
    msgIs('caduceus started'),
    (st) => `http://127.0.0.1:${String(st['primaryPort'])}`,
  );
}
