// Routing throughput: Petasos redirects/s next to a bare node:http server answering the same
// 307 (and a bare fastify one, for the cost of a router) in the same run. Every server runs in
// its own child process; the load generator (a raw HTTP/1.1 client keeping many pipelined
// requests in flight) runs in another child process, so it never shares an event loop with the server it
// measures. Bounded to about 30 s.
//   npx tsx bench/routing.ts            BENCH_MS=5000 npx tsx bench/routing.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit } from './lib/results.js';

const root = new URL('..', import.meta.url).pathname;
const self = fileURLToPath(import.meta.url);
const MEASURE_MS = Number(process.env['BENCH_MS'] ?? 4000);
const WARMUP_MS = 1000;
const CONNECTIONS = 32;
const PIPELINING = 8;
const INSTANCES = ['http://talaria-0.example.net:6200', 'http://talaria-1.example.net:6200'];
const DEVICES = Array.from(
  { length: 4096 },
  (_, i) => `mac:${(0x112233000000 + i * 7919).toString(16).padStart(12, '0')}`,
);

// ---------------------------------------------------------------------------------------------
// roles of the child processes

/** The same headers and body a Petasos redirect carries (X-Petasos-*, HTML body for GET). */
const IDENTITY = [
  'X-Petasos-Build',
  'development',
  'X-Petasos-Flavor',
  'development',
  'X-Petasos-Region',
  'local',
  'X-Petasos-Server',
  'localhost',
  'X-Petasos-Start-Time',
  '01 Jan 26 00:00 UTC',
  'Content-Type',
  'text/html; charset=utf-8',
];

/** The baseline: the same 307 a Petasos answers, with no hashing and no framework. */
function bareServer(): void {
  const owner = INSTANCES[0] as string;
  const server = createServer((req, res) => {
    const location = owner + (req.url ?? '');
    const body = `<a href="${location}">Temporary Redirect</a>.\n\n`;
    res.writeHead(307, [
      ...IDENTITY,
      'Location',
      location,
      'Content-Length',
      String(Buffer.byteLength(body)),
    ]);
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
  });
}

async function fastifyServer(): Promise<void> {
  const { fastify } = await import('fastify');
  const app = fastify();
  const location = INSTANCES[0] as string;
  app.all('*', (req, reply) => {
    const to = location + req.url;
    for (let i = 0; i < IDENTITY.length; i += 2)
      reply.header(IDENTITY[i] as string, IDENTITY[i + 1]);
    void reply.code(307).header('location', to).send(`<a href="${to}">Temporary Redirect</a>.\n\n`);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`PORT ${(app.server.address() as AddressInfo).port}\n`);
}

/**
 * Keeps CONNECTIONS sockets with PIPELINING requests each in flight for `ms` and counts the
 * answers; prints the counts as JSON. A raw HTTP/1.1 client (status line, headers up to the
 * blank line, Content-Length body) so that the generator costs far less than the servers.
 */
async function load(url: string, ms: number): Promise<void> {
  const { hostname, port } = new URL(url);
  const requests = DEVICES.map((d) =>
    Buffer.from(
      `GET /api/v2/device HTTP/1.1\r\nHost: ${hostname}\r\nX-Webpa-Device-Name: ${d}\r\n\r\n`,
    ),
  );
  let ok = 0;
  let bad = 0;
  let running = true;
  let next = 0;
  const sockets = await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(Number(port), hostname, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  const started = performance.now();
  for (const socket of sockets) {
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    const send = (n: number): void => {
      const parts: Buffer[] = [];
      for (let i = 0; i < n; i++) parts.push(requests[next++ % requests.length] as Buffer);
      socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    };
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let done = 0;
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = buf.toString('latin1', 0, end);
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        const total = end + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) break;
        if (head.startsWith('HTTP/1.1 307')) ok++;
        else bad++;
        buf = buf.subarray(total);
        done++;
      }
      if (done > 0 && running) send(done);
    });
    socket.on('error', () => bad++);
    send(PIPELINING);
  }
  await new Promise((r) => setTimeout(r, ms));
  running = false;
  const seconds = (performance.now() - started) / 1000;
  for (const socket of sockets) socket.destroy();
  process.stdout.write(`${JSON.stringify({ ok, bad, seconds })}\n`);
}

// ---------------------------------------------------------------------------------------------
// orchestration

function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves with the first stdout line matching `re`. */
function waitLine(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString();
      for (const line of buf.split('\n')) {
        const m = re.exec(line);
        if (m) {
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve(m);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before ${re}`)));
  });
}

async function startTarget(
  name: string,
  dir: string,
): Promise<{ child: ChildProcess; url: string }> {
  if (name === 'petasos') {
    const file = join(dir, 'petasos.yaml');
    writeFileSync(
      file,
      [
        'primary: { host: 127.0.0.1, port: 0 }',
        'admin: { host: 127.0.0.1, port: 0 }',
        'log: { level: info }',
        'discovery:',
        '  type: static',
        '  datacenter: dc1',
        '  static:',
        '    services:',
        '      talaria:',
        `        dc1: [${INSTANCES.join(', ')}]`,
        '',
      ].join('\n'),
    );
    const child = spawnNode(['services/petasos/src/main.ts', '--config', file]);
    const m = await waitLine(child, /"listener":"primary".*"port":(\d+)/);
    return { child, url: `http://127.0.0.1:${m[1]}` };
  }
  const child = spawnNode([self, name]);
  const m = await waitLine(child, /^PORT (\d+)$/);
  return { child, url: `http://127.0.0.1:${m[1]}` };
}

async function runLoad(
  url: string,
  ms: number,
): Promise<{ ok: number; bad: number; seconds: number }> {
  const child = spawnNode([self, 'load', url, String(ms)]);
  const m = await waitLine(child, /^(\{.*\})$/);
  return JSON.parse(m[1] as string) as { ok: number; bad: number; seconds: number };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-routing-'));
  const best: Record<string, number> = {};
  const targets: Record<string, { child: ChildProcess; url: string }> = {};
  try {
    // all servers up at once (idle when not measured); rounds alternate, best of each counts
    for (const name of ['bare', 'fastify', 'petasos']) targets[name] = await startTarget(name, dir);
    for (const name of ['bare', 'fastify', 'petasos', 'bare', 'petasos']) {
      const url = (targets[name] as { url: string }).url;
      await runLoad(url, WARMUP_MS);
      const r = await runLoad(url, MEASURE_MS);
      if (r.bad > 0) throw new Error(`${name}: ${r.bad} answers were not 307`);
      best[name] = Math.max(best[name] ?? 0, r.ok / r.seconds);
    }
  } finally {
    for (const t of Object.values(targets)) t.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const bare = best['bare'] as number;
  const rows: Array<[string, number]> = [
    ['bare node:http 307', bare],
    ['bare fastify 307', best['fastify'] as number],
    ['petasos 307 (hash + ring lookup)', best['petasos'] as number],
  ];
  console.log(
    `routing: ${CONNECTIONS} connections x ${PIPELINING} pipelined, best of ${MEASURE_MS} ms runs, ${DEVICES.length} device ids`,
  );
  for (const [label, rate] of rows) {
    console.log(
      `  ${label.padEnd(34)} ${Math.round(rate).toString().padStart(8)} req/s  ${(rate / bare).toFixed(2)}x`,
    );
  }
  emit([
    {
      scenario: 'micro',
      metric: 'Petasos redirects/s (307 with ring lookup)',
      ours: best['petasos'] as number,
      baseline: { name: 'bare node:http 307', value: bare },
      better: 'higher',
      goal: 0.7,
      note: `${CONNECTIONS} connections x ${PIPELINING} pipelined; bare fastify ${Math.round(best['fastify'] as number)}/s`,
    },
  ]);
}

const role = process.argv[2];
if (role === 'bare') bareServer();
else if (role === 'fastify') await fastifyServer();
else if (role === 'load') await load(process.argv[3] as string, Number(process.argv[4]));
else await main();
