import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '@xmidt/runtime';
import { apiAuthorization } from '../api-auth.js';
import { Fleet, type FleetConfig } from '../simulate/fleet.js';
import { mergeSnapshots, type FleetSnapshot } from '../simulate/fleet-stats.js';
import { Histogram } from '../simulate/histogram.js';
import { Prober, type ProbeStats } from '../simulate/prober.js';

const HELP = `xmidt simulate — a fleet of simulated Parodus devices

Usage: xmidt simulate [options]

Each device connects as Parodus does (through Petasos, following the redirect to its
Talaria, with Parodus' headers and backoff), answers requests and sends events.

  --url URL[,URL…]        server URL(s), normally Petasos (default http://127.0.0.1:6400);
                          devices are spread over them (e.g. several 127.x addresses)
  --devices N             number of devices (default 100)
  --workers N             worker processes; default: none up to 18000 devices, else one per
                          18000 devices (each process may hold at most ~19000 connections)
  --rate N                devices started per second, whole fleet (default 500)
  --duration D            run time, e.g. 60, 90s, 5m (default 60s); then stops by itself
  --events-per-second N   events sent by the whole fleet per second (default 0)
  --event-dest TEMPLATE   event destination, {id} = device id (default event:simulator/{id}/tick)
  --event-size BYTES      event payload size (default 64)
  --reply MODE            echo (default: payload back) or none
  --ping-timeout S        reconnect after S seconds without a server ping (default 180; 0 = off)
  --backoff-max N         backoff cap 2^N-1 s (default 6)
  --backoff-unit-ms MS    length of a backoff "second" (default 1000)
  --mac-base HEX          first MAC address, 12 hex digits (default 5ca1ab1e0000)
  --token-url URL         fetch device tokens from Themis (/issue)
  --request-url URL       measure round trips: POST WRP requests to random devices here
                          (Scytale …/api/v3/device or Talaria …/api/v2/device/send)
  --request-rate N        round-trip requests per second (default 10 with --request-url)
  --request-size BYTES    request payload size (default 32)
  --request-timeout D     per request (default 10s)
  --auth USER:PASS        credentials for --request-url (default $XMIDT_API_AUTH)
  --model NAME --firmware NAME --manufacturer NAME   reported device details
  --json                  print the summary as JSON
  --quiet                 no progress line
  --help                  this text

Progress goes to stderr while the fleet ramps; a summary is printed at the end: devices
connected, failures by reason, disconnects by reason, requests answered, events sent,
connect latency and (with --request-url) round-trip latency percentiles.
`;

const PER_PROCESS = 18_000;
const MAX_PER_PROCESS = 19_000;

interface Options {
  fleet: Omit<FleetConfig, 'firstIndex' | 'count' | 'eventsPerSecond' | 'rampPerSecond'>;
  devices: number;
  workers: number;
  rate: number;
  durationMs: number;
  eventsPerSecond: number;
  probe?: {
    url: string;
    rate: number;
    size: number;
    timeoutMs: number;
    authorization?: string;
  };
  json: boolean;
  quiet: boolean;
}

class UsageError extends Error {}

function int(name: string, text: string | undefined, def: number, min = 0): number {
  if (text === undefined) return def;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}`);
  return n;
}

function parse(argv: readonly string[]): Options | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:6400' },
      devices: { type: 'string' },
      workers: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string', default: '60s' },
      'events-per-second': { type: 'string' },
      'event-dest': { type: 'string', default: 'event:simulator/{id}/tick' },
      'event-size': { type: 'string' },
      reply: { type: 'string', default: 'echo' },
      'ping-timeout': { type: 'string' },
      'backoff-max': { type: 'string' },
      'backoff-unit-ms': { type: 'string' },
      'mac-base': { type: 'string', default: '5ca1ab1e0000' },
      'token-url': { type: 'string' },
      'request-url': { type: 'string' },
      'request-rate': { type: 'string' },
      'request-size': { type: 'string' },
      'request-timeout': { type: 'string', default: '10s' },
      auth: { type: 'string' },
      model: { type: 'string', default: 'SimModel' },
      firmware: { type: 'string', default: 'sim-fw-1.0' },
      manufacturer: { type: 'string', default: 'XmidtSim' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const urls = values.url
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const u of urls) {
    if (!/^https?:\/\/[^/]+/.test(u))
      throw new UsageError(`--url: want http(s)://host[:port], got ${u}`);
  }
  if (urls.length === 0) throw new UsageError('--url is empty');
  const devices = int('devices', values.devices, 100, 1);
  const workers =
    values.workers !== undefined
      ? int('workers', values.workers, 0)
      : devices > PER_PROCESS
        ? Math.ceil(devices / PER_PROCESS)
        : 0;
  const perProcess = Math.ceil(devices / Math.max(1, workers));
  if (perProcess > MAX_PER_PROCESS) {
    throw new UsageError(
      `${perProcess} devices per process is over ${MAX_PER_PROCESS} (open-file limit): use --workers ${Math.ceil(devices / PER_PROCESS)}`,
    );
  }
  if (!/^[0-9a-fA-F]{1,12}$/.test(values['mac-base'])) {
    throw new UsageError('--mac-base: want up to 12 hex digits');
  }
  const macBase = parseInt(values['mac-base'], 16);
  if (macBase + devices > 2 ** 48)
    throw new UsageError('--mac-base: too large for the device count');
  let durationMs: number;
  let requestTimeoutMs: number;
  try {
    durationMs = parseDuration(
      /^\d+(\.\d+)?$/.test(values.duration) ? Number(values.duration) : values.duration,
    );
    requestTimeoutMs = parseDuration(values['request-timeout']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (durationMs <= 0) throw new UsageError('--duration must be positive');
  if (values.reply !== 'echo' && values.reply !== 'none')
    throw new UsageError('--reply: echo or none');
  const authorization = apiAuthorization(values.auth);
  return {
    devices,
    workers,
    rate: int('rate', values.rate, 500, 1),
    durationMs,
    eventsPerSecond: int('events-per-second', values['events-per-second'], 0),
    fleet: {
      urls,
      macBase,
      eventPayloadBytes: int('event-size', values['event-size'], 64),
      eventDest: values['event-dest'],
      reply: values.reply,
      pingTimeoutS: int('ping-timeout', values['ping-timeout'], 180),
      backoffMax: int('backoff-max', values['backoff-max'], 6),
      backoffUnitMs: int('backoff-unit-ms', values['backoff-unit-ms'], 1000, 1),
      ...(values['token-url'] !== undefined ? { tokenUrl: values['token-url'] } : {}),
      model: values.model,
      firmware: values.firmware,
      manufacturer: values.manufacturer,
    },
    ...(values['request-url'] !== undefined
      ? {
          probe: {
            url: values['request-url'],
            rate: int('request-rate', values['request-rate'], 10),
            size: int('request-size', values['request-size'], 32),
            timeoutMs: requestTimeoutMs,
            ...(authorization !== undefined ? { authorization } : {}),
          },
        }
      : {}),
    json: values.json,
    quiet: values.quiet,
  };
}

/** A source of fleet snapshots: the fleet in this process, or worker processes. */
interface Runner {
  snapshot(): Promise<FleetSnapshot>;
  stop(): Promise<FleetSnapshot>;
}

function slices(devices: number, parts: number): { firstIndex: number; count: number }[] {
  const out: { firstIndex: number; count: number }[] = [];
  let first = 0;
  for (let i = 0; i < parts; i++) {
    const count = Math.floor(devices / parts) + (i < devices % parts ? 1 : 0);
    out.push({ firstIndex: first, count });
    first += count;
  }
  return out;
}

function inProcess(opts: Options): Runner {
  const fleet = new Fleet({
    ...opts.fleet,
    firstIndex: 0,
    count: opts.devices,
    rampPerSecond: opts.rate,
    eventsPerSecond: opts.eventsPerSecond,
  });
  fleet.start();
  return {
    snapshot: () => Promise.resolve(fleet.snapshot()),
    stop: async () => {
      await fleet.stop();
      return fleet.snapshot();
    },
  };
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'snapshot'; snapshot: FleetSnapshot }
  | { type: 'final'; snapshot: FleetSnapshot | undefined };

function withWorkers(opts: Options): Runner {
  const workerPath = fileURLToPath(new URL('../simulate/worker.ts', import.meta.url));
  const tsx = import.meta.resolve('tsx');
  const parts = slices(opts.devices, opts.workers);
  const latest: FleetSnapshot[] = [];
  const finals: (FleetSnapshot | undefined)[] = [];
  const children: ChildProcess[] = [];
  parts.forEach((part, i) => {
    const child = fork(workerPath, [], {
      execArgv: ['--import', tsx],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    child.on('message', (raw) => {
      const msg = raw as FromWorker;
      if (msg.type === 'ready') {
        child.send({
          type: 'start',
          config: {
            ...opts.fleet,
            ...part,
            rampPerSecond: opts.rate / parts.length,
            eventsPerSecond: opts.eventsPerSecond / parts.length,
          } satisfies FleetConfig,
        });
      } else if (msg.type === 'snapshot') latest[i] = msg.snapshot;
      else if (msg.type === 'final') finals[i] = msg.snapshot;
    });
  });
  const gather = (): FleetSnapshot => mergeSnapshots(latest.filter((s) => s !== undefined));
  return {
    snapshot: async () => {
      for (const c of children) if (c.connected) c.send({ type: 'snapshot' });
      await new Promise((r) => setTimeout(r, 100));
      return gather();
    },
    stop: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) {
                resolve();
                return;
              }
              const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
              c.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              if (c.connected) c.send({ type: 'stop' });
              else c.kill('SIGTERM');
            }),
        ),
      );
      finals.forEach((f, i) => {
        if (f !== undefined) latest[i] = f;
      });
      return gather();
    },
  };
}

const fmtMs = (ms: number): string =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(1)}ms`;

function percentiles(h: { counts: number[]; max: number }): Record<string, number> {
  const hist = new Histogram(h.counts);
  hist.max = h.max;
  return {
    count: hist.count,
    p50: hist.percentile(50),
    p90: hist.percentile(90),
    p99: hist.percentile(99),
    max: hist.max,
  };
}

function progressLine(elapsedMs: number, s: FleetSnapshot, probe: ProbeStats | undefined): string {
  const failures = Object.values(s.failures).reduce((a, b) => a + b, 0);
  const rt = probe !== undefined ? ` rt ${probe.ok}/${probe.sent}` : '';
  return `[${(elapsedMs / 1000).toFixed(0).padStart(4)}s] online ${s.online}/${s.devices} started ${s.started} failures ${failures} redirects ${s.redirects} requests ${s.requests} events ${s.events}${rt}`;
}

function summary(
  s: FleetSnapshot,
  probe: ProbeStats | undefined,
  elapsedMs: number,
  workers: number,
): Record<string, unknown> {
  return {
    devices: s.devices,
    workers,
    durationSeconds: Math.round(elapsedMs / 100) / 10,
    connectedAtEnd: s.online,
    peakConnected: s.peakOnline,
    connects: s.connects,
    connectAttempts: s.attempts,
    redirects: s.redirects,
    failures: s.failures,
    disconnects: s.disconnects,
    requestsAnswered: s.replies,
    requestsReceived: s.requests,
    eventsSent: s.events,
    eventsDropped: s.eventsDropped,
    rssMiB: s.rssMiB,
    connectLatencyMs: percentiles(s.connectLatency),
    ...(probe !== undefined
      ? {
          roundTrips: {
            sent: probe.sent,
            ok: probe.ok,
            failures: probe.failures,
            skipped: probe.skipped,
            latencyMs: percentiles(probe.latency.toJSON()),
          },
        }
      : {}),
  };
}

function printSummary(sum: Record<string, unknown>): void {
  const lines: string[] = ['', 'simulation summary'];
  const fmtCounts = (r: unknown): string => {
    const e = Object.entries(r as Record<string, number>);
    return e.length === 0
      ? 'none'
      : e
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
  };
  const fmtLat = (r: unknown): string => {
    const p = r as Record<string, number>;
    return p['count'] === 0
      ? 'n/a'
      : `p50 ${fmtMs(p['p50'] ?? 0)}  p90 ${fmtMs(p['p90'] ?? 0)}  p99 ${fmtMs(p['p99'] ?? 0)}  max ${fmtMs(p['max'] ?? 0)}  (n=${p['count']})`;
  };
  lines.push(
    `  devices              ${String(sum['devices'])} in ${String(sum['workers'] || 1)} process(es), ${String(sum['durationSeconds'])}s`,
  );
  lines.push(
    `  connected at end     ${String(sum['connectedAtEnd'])} (peak ${String(sum['peakConnected'])})`,
  );
  lines.push(
    `  connects / attempts  ${String(sum['connects'])} / ${String(sum['connectAttempts'])}, redirects ${String(sum['redirects'])}`,
  );
  lines.push(`  failures             ${fmtCounts(sum['failures'])}`);
  lines.push(`  disconnects          ${fmtCounts(sum['disconnects'])}`);
  lines.push(
    `  requests answered    ${String(sum['requestsAnswered'])} of ${String(sum['requestsReceived'])}`,
  );
  lines.push(
    `  events sent          ${String(sum['eventsSent'])} (dropped ${String(sum['eventsDropped'])})`,
  );
  lines.push(`  connect latency      ${fmtLat(sum['connectLatencyMs'])}`);
  lines.push(`  memory (rss)         ${String(sum['rssMiB'])} MiB`);
  const rt = sum['roundTrips'] as Record<string, unknown> | undefined;
  if (rt !== undefined) {
    lines.push(
      `  round trips          ${String(rt['ok'])} ok of ${String(rt['sent'])} sent, failures ${fmtCounts(rt['failures'])}`,
    );
    lines.push(`  round-trip latency   ${fmtLat(rt['latencyMs'])}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `xmidt simulate`: returns the exit code (0 when at least one device connected). */
export async function runSimulate(argv: string[]): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parse(argv);
  } catch (err) {
    process.stderr.write(`xmidt simulate: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const o = opts;
  const started = Date.now();
  const runner = o.workers > 0 ? withWorkers(o) : inProcess(o);
  const rampMs = (o.devices / o.rate) * 1000;
  const prober =
    o.probe !== undefined
      ? new Prober({
          url: o.probe.url,
          ratePerSecond: o.probe.rate,
          ...(o.probe.authorization !== undefined ? { authorization: o.probe.authorization } : {}),
          devices: o.devices,
          macBase: o.fleet.macBase,
          payloadBytes: o.probe.size,
          timeoutMs: o.probe.timeoutMs,
          maxInFlight: 512,
        })
      : undefined;
  // Round trips are measured once the fleet has ramped up.
  const probeStart = setTimeout(() => prober?.start(), Math.min(rampMs + 1000, o.durationMs / 2));
  const tty = process.stderr.isTTY === true;
  let lastPrint = 0;
  const progress = setInterval(() => {
    void runner.snapshot().then((s) => {
      if (o.quiet) return;
      const now = Date.now();
      const ramping = s.started < s.devices || s.online < s.devices;
      if (!ramping && !tty && now - lastPrint < 10_000) return;
      lastPrint = now;
      const line = progressLine(now - started, s, prober?.stats);
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    });
  }, 1000);
  let interrupted = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, o.durationMs);
    const onSignal = (): void => {
      interrupted = true;
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  clearInterval(progress);
  clearTimeout(probeStart);
  await prober?.stop();
  const elapsed = Date.now() - started;
  // The state at the end of the run, then shut every device down.
  const atEnd = await runner.snapshot();
  const final = await runner.stop();
  final.online = atEnd.online;
  final.rssMiB = atEnd.rssMiB;
  if (!o.quiet && tty) process.stderr.write('\n');
  const sum = summary(final, prober?.stats, elapsed, o.workers);
  if (interrupted) sum['interrupted'] = true;
  if (o.json) process.stdout.write(`${JSON.stringify(sum, null, 2)}\n`);
  else printSummary(sum);
  return final.connects > 0 ? 0 : 1;
}
