// Talaria capacity: memory per idle device and connect-storm time next to a bare `ws` server,
// request-response throughput and latency through /api/v2/device/send, and a long hold.
// Talaria, the bare server and the simulated devices each run in their own processes; all
// traffic stays on 127.0.0.1 and every process stops by itself.
//
//   npx tsx bench/talaria.ts                      15,000 devices, 60 s hold (3-4 minutes)
//   npx tsx bench/talaria.ts --quick              2,000 devices, short phases (smoke run)
//   npx tsx bench/talaria.ts --hold 600           19,000 devices held for 10 minutes (about 15 minutes)
//   npx tsx bench/talaria.ts --devices 15000 --hold 30s --workers 4 --skip-bare --skip-rr
//
// Flags (env BENCH_<FLAG> with dashes as underscores also works, e.g. BENCH_DEVICES=5000):
//   --devices N        idle devices (default 15000; 19000 when --hold >= 600s; --quick 2000)
//   --hold DUR         how long Talaria holds them after the storm (default 60s; --quick 10s)
//   --interval DUR     period of the count/RSS line while holding (default 10s)
//   --settle DUR       longest wait for RSS to settle before a memory reading (default 45s;
//                      --quick 20s); readings (after a GC) repeat every 2 s until those of the
//                      last 10 s agree within 0.5 MiB
//   --workers N        device processes (default 4)
//   --rr-devices N     devices for request-response (default 1000)
//   --rr-time DUR      throughput measurement (default 5s; --quick 2s)
//   --rr-samples N     one-at-a-time latency samples (default 2000; --quick 300)
//   --concurrency N    requests in flight for throughput (default 32)
//   --skip-bare / --skip-rr    leave out the bare ws comparison / request-response
//   --snapshot PREFIX  write Talaria heap snapshots PREFIX-before.heapsnapshot (baseline) and
//                      PREFIX-after.heapsnapshot (devices connected); compare them in DevTools
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { DeviceFleet } from './lib/device-fleet.js';
import type { StormResult } from './lib/device-fleet.js';
import { deviceId } from './lib/fleet-protocol.js';
import { latencies, percentile, sleep, throughput, wrpRequester } from './lib/request-load.js';
import type { Memory, ServerProcess } from './lib/server-process.js';
import { tcpExt } from './lib/proc-rss.js';
import { raiseListenQueue } from './lib/listen-queue.js';
import { startBareServer, startTalaria } from './lib/talaria-process.js';
import type { BareUnderTest, TalariaUnderTest } from './lib/talaria-process.js';

// ---- options ------------------------------------------------------------------------------

function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration '${text}' (e.g. 30s, 10m, 600)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  return Number(m[1]) * unit;
}

const stringFlags = [
  'devices',
  'hold',
  'interval',
  'settle',
  'workers',
  'rr-devices',
  'rr-time',
  'rr-samples',
  'concurrency',
  'snapshot',
] as const;
const boolFlags = ['quick', 'skip-bare', 'skip-rr'] as const;

const { values: flags } = parseArgs({
  options: {
    ...Object.fromEntries(stringFlags.map((f) => [f, { type: 'string' as const }])),
    ...Object.fromEntries(boolFlags.map((f) => [f, { type: 'boolean' as const }])),
  },
});

function opt(name: (typeof stringFlags)[number]): string | undefined {
  const v = flags[name];
  if (typeof v === 'string') return v;
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
}
function flag(name: (typeof boolFlags)[number]): boolean {
  const env = process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  return flags[name] === true || env === '1' || env === 'true';
}
function int(name: (typeof stringFlags)[number], def: number): number {
  const v = opt(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: not a count: ${v}`);
  return n;
}
function dur(name: (typeof stringFlags)[number], def: number): number {
  const v = opt(name);
  return v === undefined ? def : durationMs(v);
}

const quick = flag('quick');
const holdMs = dur('hold', quick ? 10_000 : 60_000);
const o = {
  devices: int('devices', quick ? 2000 : holdMs >= 600_000 ? 19_000 : 15_000),
  holdMs,
  intervalMs: dur('interval', 10_000),
  settleMs: dur('settle', quick ? 20_000 : 45_000),
  workers: Math.max(1, int('workers', 4)),
  rrDevices: int('rr-devices', 1000),
  rrMs: dur('rr-time', quick ? 2000 : 5000),
  rrSamples: int('rr-samples', quick ? 300 : 2000),
  concurrency: Math.max(1, int('concurrency', 32)),
  bare: !flag('skip-bare'),
  rr: !flag('skip-rr'),
  snapshot: opt('snapshot'),
};
if (o.devices > 19_900) {
  console.warn(`note: ${o.devices} devices exceed what one process can hold with 20,000 files`);
}

// ---- cleanup and the overall deadline -------------------------------------------------------

const wsUrlOf = (httpUrl: string): string => `${httpUrl.replace('http:', 'ws:')}/api/v2/device`;
const WARMUP_DEVICES = 300;
const WARMUP_FIRST_ID = 0x100000000;

const cleanups = new Set<() => unknown>();
async function cleanupAll(): Promise<void> {
  const fns = [...cleanups].reverse();
  cleanups.clear();
  for (const fn of fns) {
    try {
      await fn();
    } catch {
      // best effort
    }
  }
}
const budgetMs = o.holdMs + 15 * 60_000;
const watchdog = setTimeout(() => {
  console.error(`benchmark exceeded ${Math.round(budgetMs / 1000)} s, stopping`);
  void cleanupAll().finally(() => process.exit(2));
}, budgetMs);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void cleanupAll().finally(() => process.exit(130)));
}

// ---- formatting ----------------------------------------------------------------------------

const MiB = 1024 * 1024;
const t0 = performance.now();
const stamp = (): string => `[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s]`;
const log = (s: string): void => console.log(`${stamp()} ${s}`);
const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;
const kib = (b: number): string => (b / 1024).toFixed(2);
const pct = (sorted: number[], p: number): string => (percentile(sorted, p) / 1000).toFixed(2);
const series = (xs: number[]): string => xs.map((x) => (x / MiB).toFixed(1)).join(' ') + ' MiB';

interface IdleResult {
  storm: StormResult;
  /** Server CPU time spent from the go signal until every device was connected. */
  stormCpuMs: number;
  /** Growth of the kernel's listen-queue overflow counter during the storm. */
  listenOverflows: number;
  held: number;
  base: Memory;
  after: Memory;
  perDevice: { rss: number; heap: number; external: number };
}

function perDevice(base: Memory, after: Memory, n: number): IdleResult['perDevice'] {
  const d = Math.max(1, n);
  return {
    rss: (after.rss - base.rss) / d,
    heap: (after.heapUsed - base.heapUsed) / d,
    external: (after.external - base.external) / d,
  };
}

function describeIdle(name: string, r: IdleResult): void {
  const s = r.storm;
  log(
    `${name}: ${s.open} connected in ${(s.ms / 1000).toFixed(2)} s ` +
      `(${s.failed} failed, ${s.retries} retries), server CPU ${(r.stormCpuMs / 1000).toFixed(2)} s, ` +
      `listen queue overflows ${r.listenOverflows}; held ${r.held}`,
  );
  log(
    `${name}: per-device connect time p50 ${pct(s.times, 50)} s, p90 ${pct(s.times, 90)} s, ` +
      `p99 ${pct(s.times, 99)} s, max ${pct(s.times, 100)} s`,
  );
  log(
    `${name}: RSS ${mib(r.base.rss)} -> ${mib(r.after.rss)}, heap ${mib(r.base.heapUsed)} -> ` +
      `${mib(r.after.heapUsed)}, external ${mib(r.base.external)} -> ${mib(r.after.external)}; ` +
      `per device: RSS ${kib(r.perDevice.rss)} KiB, heap ${kib(r.perDevice.heap)} KiB, ` +
      `external ${kib(r.perDevice.external)} KiB; V8 heap resident ` +
      `${kib((r.after.heapPhysical - r.base.heapPhysical) / Math.max(1, r.held))} KiB, the rest ` +
      `${kib((r.after.rss - r.after.heapPhysical - (r.base.rss - r.base.heapPhysical)) / Math.max(1, r.held))} KiB`,
  );
}

/** Starts the server's devices all at once, lets them settle, measures memory. */
async function idleScenario(
  name: string,
  server: ServerProcess,
  base: Memory,
  wsUrl: string,
  count: () => Promise<number>,
  fleet: DeviceFleet,
): Promise<IdleResult> {
  log(`${name}: connecting ${o.devices} devices at once`);
  const cpu0 = server.cpuMs();
  const ovf0 = tcpExt()['ListenOverflows'] ?? 0;
  const storm = await fleet.connect(wsUrl, o.devices);
  const stormCpuMs = server.cpuMs() - cpu0;
  const listenOverflows = (tcpExt()['ListenOverflows'] ?? 0) - ovf0;
  log(`${name}: storm done, waiting for RSS to settle`);
  const after = await server.settledMemory(o.settleMs);
  log(`${name}: RSS readings ${series(after.series)}`);
  const held = await count();
  const r = {
    storm,
    stormCpuMs,
    listenOverflows,
    held,
    base,
    after,
    perDevice: perDevice(base, after, held),
  };
  describeIdle(name, r);
  return r;
}

// ---- scenarios -----------------------------------------------------------------------------

interface HoldResult {
  ms: number;
  devices: number;
  fleetOpen: number;
  dropped: number;
  /** Memory after a GC at the end of the hold, and per device against the baseline. */
  mem: Memory;
  rssPerDevice: number;
}

async function talariaIdle(
  talaria: TalariaUnderTest,
  base: Memory,
): Promise<{ idle: IdleResult; hold: HoldResult }> {
  const fleet = await DeviceFleet.start(o.workers);
  cleanups.add(() => fleet.kill());
  const wsUrl = wsUrlOf(talaria.url);
  const idle = await idleScenario(
    'talaria',
    talaria.server,
    base,
    wsUrl,
    () => talaria.deviceCount(),
    fleet,
  );
  if (o.snapshot) {
    const file = await talaria.server.heapSnapshot(`${o.snapshot}-after.heapsnapshot`);
    log(`talaria: heap snapshot written: ${file}`);
  }
  const holdStart = performance.now();
  const holdLeft = (): number => o.holdMs - (performance.now() - holdStart);
  log(`talaria: holding for ${(o.holdMs / 1000).toFixed(0)} s (pings every 45 s)`);
  while (holdLeft() > 0) {
    await sleep(Math.min(o.intervalMs, holdLeft()));
    const [devices, st] = await Promise.all([talaria.deviceCount(), fleet.status()]);
    log(
      `hold: talaria devices ${devices}, devices open ${st.open}, dropped ${st.dropped}, ` +
        `RSS ${mib(talaria.server.rssNow())}`,
    );
  }
  const [devices, st, pings, pongs] = await Promise.all([
    talaria.deviceCount(),
    fleet.status(),
    talaria.metric('xmidt_talaria_ping_count'),
    talaria.metric('xmidt_talaria_pong_count'),
  ]);
  const holdMs = performance.now() - holdStart;
  const mem = await talaria.server.settledMemory(o.settleMs);
  log(`talaria: RSS readings ${series(mem.series)}`);
  const hold: HoldResult = {
    ms: holdMs,
    devices,
    fleetOpen: st.open,
    dropped: st.dropped,
    mem,
    rssPerDevice: (mem.rss - idle.base.rss) / Math.max(1, devices),
  };
  log(
    `talaria: after ${(hold.ms / 1000).toFixed(0)} s hold ${devices} of ${idle.storm.open} ` +
      `devices still connected (devices see ${st.open} open, ${st.dropped} dropped), ` +
      `${pings} pings sent, ${pongs} pongs received; ` +
      `RSS ${mib(mem.rss)} (${kib(hold.rssPerDevice)} KiB per device), heap ${mib(mem.heapUsed)}`,
  );
  await fleet.close();
  await talaria.stop();
  return { idle, hold };
}

async function bareIdle(bare: BareUnderTest, base: Memory): Promise<IdleResult> {
  const fleet = await DeviceFleet.start(o.workers);
  cleanups.add(() => fleet.kill());
  let open = 0;
  const idle = await idleScenario(
    'bare ws',
    bare.server,
    base,
    wsUrlOf(bare.url),
    async () => {
      open = (await fleet.status()).open;
      return open;
    },
    fleet,
  );
  await fleet.close();
  await bare.server.stop();
  return idle;
}

interface RrResult {
  devices: number;
  rate: number;
  p50: number;
  p99: number;
  samples: number;
  errors: number;
}

async function requestResponse(): Promise<RrResult> {
  const talaria = await startTalaria();
  cleanups.add(() => talaria.stop());
  const fleet = await DeviceFleet.start(Math.min(o.workers, 2));
  cleanups.add(() => fleet.kill());
  const storm = await fleet.connect(wsUrlOf(talaria.url), o.rrDevices);
  const devices = await talaria.deviceCount();
  log(`rr: ${devices} devices connected (${storm.failed} failed)`);
  const deviceIds = Array.from({ length: o.rrDevices }, (_, i) => deviceId(1 + i));
  const load = wrpRequester(talaria.url, deviceIds, o.concurrency);
  const t = await throughput(load.roundTrip, o.concurrency, 1000, o.rrMs);
  log(`rr: ${t.rate.toFixed(0)} round trips/s with ${o.concurrency} in flight`);
  const lat = await latencies(load.roundTrip, o.rrSamples, 60_000);
  const r: RrResult = {
    devices,
    rate: t.rate,
    p50: percentile(lat.sorted, 50),
    p99: percentile(lat.sorted, 99),
    samples: lat.sorted.length,
    errors: t.errors + lat.errors,
  };
  log(
    `rr: one at a time p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${r.samples} samples, ${r.errors} errors)`,
  );
  await load.close();
  await fleet.close();
  await talaria.stop();
  return r;
}

// ---- main ----------------------------------------------------------------------------------

console.log(
  `talaria capacity bench: ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, ` +
    `node ${process.version}; ${o.devices} devices over ${o.workers} processes, ` +
    `hold ${(o.holdMs / 1000).toFixed(0)} s` +
    (o.rr ? `, request-response at ${o.rrDevices} devices` : '') +
    `; load average ${loadavg()[0]?.toFixed(2)}`,
);

cleanups.add(raiseListenQueue(log));

// Both servers start together, so their baselines settle in parallel; the bare one stays idle
// while Talaria is measured.
const [talaria, bareServer] = await Promise.all([
  startTalaria(),
  o.bare ? startBareServer() : undefined,
]);
cleanups.add(() => talaria.stop());
if (bareServer) cleanups.add(() => bareServer.server.stop());
// Warm-up: a few hundred devices connect and leave, so lazily loaded code, JIT output and the
// young generation's working size are part of the baseline rather than counted per device.
{
  const warm = await DeviceFleet.start(1);
  cleanups.add(() => warm.kill());
  for (const url of [talaria.url, ...(bareServer ? [bareServer.url] : [])]) {
    await warm.connect(wsUrlOf(url), WARMUP_DEVICES, { firstId: WARMUP_FIRST_ID });
    await warm.disconnectAll();
  }
  await warm.close();
}
log(`servers started and warmed up (${WARMUP_DEVICES} devices); waiting for their RSS to settle`);
// A fresh process keeps handing memory back for half a minute (V8's new space shrinks after a
// few seconds, the module loader thread's memory later), so the baseline waits at least 30 s.
const baselineOpts = { minMs: Math.min(30_000, o.settleMs) };
const [talBase, bareBase] = await Promise.all([
  talaria.server.settledMemory(o.settleMs, baselineOpts),
  bareServer?.server.settledMemory(o.settleMs, baselineOpts),
]);
log(`talaria: baseline RSS readings ${series(talBase.series)}`);
if (bareBase) log(`bare ws: baseline RSS readings ${series(bareBase.series)}`);
if (o.snapshot) {
  const file = await talaria.server.heapSnapshot(`${o.snapshot}-before.heapsnapshot`);
  log(`talaria: heap snapshot written: ${file}`);
}
const tal = await talariaIdle(talaria, talBase);
const bare = bareServer && bareBase ? await bareIdle(bareServer, bareBase) : undefined;
const rr = o.rr ? await requestResponse() : undefined;

// ---- report --------------------------------------------------------------------------------

type Cell = string;
const rows: [Cell, Cell, Cell, Cell, Cell][] = [];
const ratio = (a: number, b: number | undefined): string =>
  b === undefined || b <= 0 ? '-' : `${(a / b).toFixed(2)}x`;
const verdict = (a: number, b: number | undefined, max: number): string =>
  b === undefined || b <= 0 ? 'n/a' : a / b <= max ? `<= ${max}x: met` : `<= ${max}x: NOT met`;

const ti = tal.idle;
const bi = bare;
rows.push([
  `RSS per idle device (KiB) at ${ti.held}`,
  kib(ti.perDevice.rss),
  bi ? kib(bi.perDevice.rss) : '-',
  ratio(ti.perDevice.rss, bi?.perDevice.rss),
  verdict(ti.perDevice.rss, bi?.perDevice.rss, 2),
]);
rows.push([
  'JS heap per idle device (KiB)',
  kib(ti.perDevice.heap),
  bi ? kib(bi.perDevice.heap) : '-',
  ratio(ti.perDevice.heap, bi?.perDevice.heap),
  '',
]);
rows.push([
  `connect storm, ${o.devices} devices (s)`,
  (ti.storm.ms / 1000).toFixed(2),
  bi ? (bi.storm.ms / 1000).toFixed(2) : '-',
  ratio(ti.storm.ms, bi?.storm.ms),
  verdict(ti.storm.ms, bi?.storm.ms, 2),
]);
for (const p of [50, 99]) {
  rows.push([
    `storm: p${p} device connect time (s)`,
    pct(ti.storm.times, p),
    bi ? pct(bi.storm.times, p) : '-',
    ratio(percentile(ti.storm.times, p), bi && percentile(bi.storm.times, p)),
    '',
  ]);
}
rows.push([
  'connect storm rate (devices/s)',
  (ti.storm.open / (ti.storm.ms / 1000)).toFixed(0),
  bi ? (bi.storm.open / (bi.storm.ms / 1000)).toFixed(0) : '-',
  '',
  '',
]);
rows.push([
  'storm: server CPU (ms per 1000 devices)',
  ((ti.stormCpuMs / Math.max(1, ti.storm.open)) * 1000).toFixed(0),
  bi ? ((bi.stormCpuMs / Math.max(1, bi.storm.open)) * 1000).toFixed(0) : '-',
  ratio(
    ti.stormCpuMs / Math.max(1, ti.storm.open),
    bi && bi.stormCpuMs / Math.max(1, bi.storm.open),
  ),
  '',
]);
rows.push([
  'storm: listen queue overflows',
  String(ti.listenOverflows),
  bi ? String(bi.listenOverflows) : '-',
  '',
  '',
]);
rows.push([
  'storm: failed / retried connects',
  `${ti.storm.failed} / ${ti.storm.retries}`,
  bi ? `${bi.storm.failed} / ${bi.storm.retries}` : '-',
  '',
  '',
]);
rows.push([
  `held after ${(tal.hold.ms / 1000).toFixed(0)} s (of ${ti.storm.open})`,
  String(tal.hold.devices),
  '-',
  '',
  `RSS ${mib(tal.hold.mem.rss)}`,
]);
rows.push([
  'RSS per device at end of hold (KiB)',
  kib(tal.hold.rssPerDevice),
  bi ? kib(bi.perDevice.rss) : '-',
  ratio(tal.hold.rssPerDevice, bi?.perDevice.rss),
  '',
]);
if (rr) {
  rows.push([
    `send round trips/s, ${o.concurrency} in flight, ${rr.devices} dev`,
    rr.rate.toFixed(0),
    '-',
    '',
    '',
  ]);
  rows.push(['send latency p50, one at a time (ms)', rr.p50.toFixed(2), '-', '', '']);
  rows.push(['send latency p99, one at a time (ms)', rr.p99.toFixed(2), '-', '', '']);
  if (rr.errors > 0) rows.push(['send errors', String(rr.errors), '-', '', '']);
}

const header: [Cell, Cell, Cell, Cell, Cell] = ['scenario', 'talaria', 'bare ws', 'ratio', 'goal'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
const line = (r: Cell[]): string =>
  r
    .map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
    .join('  ');
console.log('');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));

console.log(
  `\nload average at the end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (other work on the machine skews the timings)`,
);
clearTimeout(watchdog);
await cleanupAll();
