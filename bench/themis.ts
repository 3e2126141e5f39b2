// Themis issuing throughput: tokens/s over real HTTP (Themis in a child process, load from this
// process over keep-alive connections) next to bare node:crypto signing of the same claims on
// one thread, per algorithm and signer mode. Each row takes ROUNDS rounds of bare signing then
// HTTP load, back to back, and gives the round with the median ratio: on a shared machine both
// rates drift by a third within seconds, the ratio of neighbours much less. Bounded
// to about 90 s. Each row also gives the CPU time per token of Themis' event-loop thread, of its
// other threads (signing, GC) and of the load generator (from /proc and process.cpuUsage).
//   npx tsx bench/themis.ts   (BENCH_ALG=ES256: one algorithm; BENCH_ROUNDS, BENCH_MS, BENCH_CONNECTIONS;
//                               BENCH_CPU_PROF=<dir>: a CPU profile of each Themis thread)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { percentile } from './lib/request-load.js';
import { emit, type ResultRow } from './lib/results.js';
import {
  generatePrivateKey,
  TokenSigner,
  type SignerMode,
  type SigningAlgorithm,
} from '@xmidt/themis';

const root = new URL('..', import.meta.url).pathname;
const MEASURE_MS = Number(process.env['BENCH_MS'] ?? 1000);
const WARMUP_MS = 300;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 64);

const sampleClaims = (): Record<string, unknown> => {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: 'XMiDT',
    exp: now + 86400,
    iat: now,
    iss: 'themis',
    jti: 'AAAAAAAAAAAAAAAAAAAAAA',
    mac: 'mac:112233445566',
    nbf: now - 15,
    'partner-id': 'comcast',
    serial: 'SER123',
    sub: 'client-supplied',
    trust: 0,
    uuid: '8c3b4c5e-7f53-4e53-8b0d-3b7a2f1b1d0a',
  };
};

/**
 * Bare signing on this thread: the same claims, JSON-encoded (sorted keys), base64url, and signed
 * with a synchronous node:crypto sign() on a KeyObject: what /issue does, minus HTTP.
 */
async function bareSign(alg: SigningAlgorithm, privateKey: KeyObject): Promise<number> {
  const signer = new TokenSigner('inline');
  const key = { kid: 'bench', alg, privateKey, publicKey: privateKey, createdAt: Date.now() };
  const until = Date.now() + MEASURE_MS / 2;
  let n = 0;
  const start = performance.now();
  while (Date.now() < until) {
    await signer.sign(sampleClaims(), key);
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function startThemis(
  alg: SigningAlgorithm,
  { mode, threads, workers }: Variant,
): Promise<{ child: ChildProcess; port: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'themis-bench-'));
  const cfg = join(dir, 'themis.yaml');
  writeFileSync(
    cfg,
    [
      'log: { level: info }',
      'servers:',
      '  key: { host: 127.0.0.1, port: 0 }',
      `  issuer: { host: 127.0.0.1, port: 0, maxConcurrentRequests: 0, workers: ${workers} }`,
      '  admin: { host: 127.0.0.1, port: 0 }',
      'token:',
      `  alg: ${alg}`,
      `  key: { directory: ${JSON.stringify(join(dir, 'keys'))} }`,
      `signer: { mode: ${mode}, threads: ${threads ?? 1} }`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [
      // BENCH_CPU_PROF=<dir>: a V8 CPU profile per thread of Themis (its cluster workers too)
      ...(process.env['BENCH_CPU_PROF']
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]
        : []),
      '--import',
      'tsx',
      join(root, 'services/themis/src/main.ts'),
      '--config',
      cfg,
    ],
    {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        if (line.includes('"issuerPort"')) {
          child.stdout?.off('data', onData);
          child.stdout?.resume();
          resolve((JSON.parse(line) as { issuerPort: number }).issuerPort);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`themis exited ${code}`)));
  });
  return { child, port, dir };
}

/**
 * CPU time (ms) of every thread of a process and of its child processes (cluster workers), by
 * "pid/tid" (Linux /proc; empty elsewhere).
 */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (p: string) => {
    for (const tid of readdirSync(`/proc/${p}/task`)) {
      const stat = readFileSync(`/proc/${p}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${p}/${tid}`, (Number(f[11]) + Number(f[12])) * 10); // utime + stime, 100 Hz
      const children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
      for (const c of children ? children.split(' ') : []) visit(c);
    }
  };
  try {
    visit(String(pid));
  } catch {
    // not Linux, or a process is gone
  }
  return out;
}

interface CpuPerToken {
  /** µs per token: Themis' event-loop threads (one per process), its other threads, the load generator */
  main: number;
  other: number;
  load: number;
}

/**
 * Closed-loop load over keep-alive HTTP/1.1 connections with a minimal client (pre-built request
 * bytes, a response parser that only finds the status and Content-Length), so that the load
 * generator takes as little of the shared CPU as possible. Between measurements it stops: every
 * connection waits for its answer and sends nothing more, so the bare signing has the machine.
 */
class LoadClient {
  readonly #request = Buffer.from(
    'GET /issue HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Midt-Mac-Address: mac:112233445566\r\n' +
      'X-Midt-Partner-Id: comcast\r\n\r\n',
  );
  readonly #sockets: Socket[] = [];
  #running = false;
  #outstanding = 0;
  #idle: (() => void) | undefined;
  count = 0;
  failure: Error | undefined;

  async connect(port: number): Promise<void> {
    await Promise.all(
      Array.from(
        { length: CONNECTIONS },
        () =>
          new Promise<void>((resolve, reject) => {
            const sock = connect(port, '127.0.0.1', () => {
              sock.setNoDelay(true);
              resolve();
            });
            sock.once('error', reject);
            this.#sockets.push(sock);
            let buf: Buffer = Buffer.alloc(0);
            sock.on('data', (chunk: Buffer) => {
              buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
              for (;;) {
                const end = buf.indexOf('\r\n\r\n');
                if (end < 0) return;
                const head = buf.toString('latin1', 0, end);
                const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
                if (buf.length < end + 4 + len) return;
                if (!head.startsWith('HTTP/1.1 200') || len < 100) this.failure ??= new Error(head);
                buf = buf.subarray(end + 4 + len);
                this.count++;
                if (this.#running) sock.write(this.#request);
                else if (--this.#outstanding === 0) this.#idle?.();
              }
            });
          }),
      ),
    );
  }

  start(): void {
    this.#running = true;
    for (const s of this.#sockets) s.write(this.#request);
  }

  /** Resolves once every connection has its last answer. */
  stop(): Promise<void> {
    this.#running = false;
    this.#outstanding = this.#sockets.length;
    return new Promise((resolve) => (this.#idle = resolve));
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
  }
}

/** One round of HTTP load: tokens/s and CPU per token. */
async function httpRound(
  load: LoadClient,
  pid: number,
): Promise<{ rate: number; cpu: CpuPerToken }> {
  load.start();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const threads0 = threadCpu(pid);
  const load0 = process.cpuUsage();
  const count0 = load.count;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const n = load.count - count0;
  const rate = n / ((performance.now() - start) / 1000);
  const threads1 = threadCpu(pid);
  const used = process.cpuUsage(load0);
  await load.stop();
  if (load.failure) throw load.failure;
  let main = 0;
  let other = 0;
  for (const [tid, ms] of threads1) {
    const d = ms - (threads0.get(tid) ?? 0);
    const [p, t] = tid.split('/');
    if (p === t) main += d;
    else other += d;
  }
  const perToken = (ms: number) => (n > 0 ? (ms * 1000) / n : NaN);
  return {
    rate,
    cpu: {
      main: perToken(main),
      other: perToken(other),
      load: perToken((used.user + used.system) / 1000),
    },
  };
}

const median = (xs: number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

type Variant = { mode: SignerMode; threads?: number; workers: number };
const runs: { alg: SigningAlgorithm; variants: Variant[] }[] = [
  {
    alg: 'RS256',
    variants: [
      { mode: 'threadpool', workers: 1 }, // the default (auto)
      { mode: 'threads', threads: 2, workers: 1 },
      { mode: 'inline', workers: 1 },
      { mode: 'threadpool', workers: 2 },
    ],
  },
  {
    alg: 'ES256',
    variants: [
      { mode: 'threadpool', workers: 1 },
      { mode: 'threads', threads: 1, workers: 1 }, // the default (auto)
      { mode: 'threads', threads: 1, workers: 2 },
    ],
  },
  {
    alg: 'EdDSA',
    variants: [
      { mode: 'threadpool', workers: 1 },
      { mode: 'threads', threads: 1, workers: 1 }, // the default (auto)
      { mode: 'threads', threads: 1, workers: 2 },
    ],
  },
];
const label = (v: Variant) => (v.mode === 'threads' ? `threads(${v.threads ?? 1})` : v.mode);

console.log(
  `themis bench: ${cpus().length} cores, ${CONNECTIONS} connections, ${ROUNDS} rounds of bare signing then ${MEASURE_MS} ms of HTTP load per row (medians), load from this process`,
);
console.log(
  'alg    signer      workers  http tok/s  bare tok/s  ratio   CPU µs/token: themis main + other, load   (ratio per round)',
);
const only = process.env['BENCH_ALG'];
const resultRows: ResultRow[] = [];
for (const { alg, variants } of runs.filter((r) => !only || r.alg === only)) {
  const privateKey = await generatePrivateKey(alg, 2048);
  for (const variant of variants) {
    const { child, port, dir } = await startThemis(alg, variant);
    const load = new LoadClient();
    try {
      await load.connect(port);
      const rounds: { bare: number; http: number; cpu: CpuPerToken }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const bare = await bareSign(alg, privateKey);
        const { rate: http, cpu } = await httpRound(load, child.pid ?? 0);
        rounds.push({ bare, http, cpu });
      }
      // the round with the median ratio: a measured pair of neighbours, not a mix of rounds
      const mid = [...rounds].sort((a, b) => a.http / a.bare - b.http / b.bare)[
        Math.floor(rounds.length / 2)
      ] as (typeof rounds)[number];
      const { http, bare } = mid;
      const ratio = http / bare;
      const cpu = {
        main: median(rounds.map((r) => r.cpu.main)),
        other: median(rounds.map((r) => r.cpu.other)),
        load: median(rounds.map((r) => r.cpu.load)),
      };
      const mode = label(variant);
      const { workers } = variant;
      const us = (v: number) => v.toFixed(1).padStart(5);
      console.log(
        `${alg.padEnd(6)} ${mode.padEnd(11)} ${String(workers).padStart(7)}  ${http.toFixed(0).padStart(10)}  ${bare.toFixed(0).padStart(10)}  ${ratio.toFixed(2)}x   ${us(cpu.main)} + ${us(cpu.other)}, ${us(cpu.load)}   (${rounds.map((r) => (r.http / r.bare).toFixed(2)).join(' ')})`,
      );
      resultRows.push({
        scenario: 'themis',
        metric: `tokens/s over HTTP, ${alg}, ${mode} signer, ${workers} worker(s)`,
        ours: http,
        baseline: { name: 'bare node:crypto, 1 thread', value: bare },
        better: 'higher',
        goal: 0.8,
        note: `the round with the median ratio of ${ROUNDS} (ratios ${rounds.map((r) => (r.http / r.bare).toFixed(2)).join(', ')}); CPU µs/token: Themis event loop ${cpu.main.toFixed(1)}, other threads ${cpu.other.toFixed(1)}, load generator ${cpu.load.toFixed(1)}`,
      });
    } finally {
      load.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
emit(resultRows);
