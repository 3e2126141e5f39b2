// Scenarios (a) idle devices and (b) connect storm, in one run:
//   Talaria: devices fetch a JWT from Themis, then all connect at once straight to Talaria
//            (which verifies the JWT) and stay idle (Talaria pings every 45 s); then, dropped
//            again, all connect at once through Petasos (307 to Talaria).
//   Mosquitto: the same number of MQTT 3.1.1 clients, keep-alive 45 s, all at once.
//   bare ws: the same websocket devices, with the same headers and token, straight to a `ws`
//            server that does nothing else.
// Reported: connect-storm times and the CPU each process spent per device, then RSS per idle
// connection once the server's RSS settles. The kernel's listen-queue limits are raised for
// the run (bench/lib/listen-queue.ts).
//   BENCH_SCALE=0.05 npx tsx bench/scenarios/devices.ts
// Env: BENCH_SCALE (15,000 devices x scale), BENCH_WORKERS (device processes, default 4),
//      BENCH_SETTLE (longest RSS settle wait, default 45s; 10s below scale 0.5).
import { readFileSync } from 'node:fs';
import { cpuMeter } from '../lib/cpu-meter.js';
import type { CpuProbes } from '../lib/cpu-meter.js';
import { DeviceFleet } from '../lib/device-fleet.js';
import type { StormResult } from '../lib/device-fleet.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { emit } from '../lib/results.js';
import type { ResultRow } from '../lib/results.js';
import { SCALE, envDuration, log, onCleanup, runScenario, scaled } from '../lib/scenario.js';
import type { Memory } from '../lib/server-process.js';
import { startPetasos, startTalariaService, startThemis } from '../lib/services.js';
import { startBareServer } from '../lib/talaria-process.js';
import { sleep } from '../lib/request-load.js';
import { raiseListenQueue } from '../lib/listen-queue.js';

const DEVICES = scaled(15_000, 10);
const WORKERS = Number(process.env['BENCH_WORKERS'] ?? Math.min(4, Math.ceil(DEVICES / 500)));
const SETTLE_MS = envDuration('BENCH_SETTLE', SCALE >= 0.5 ? 45_000 : 10_000);
const BASE_MIN_MS = SCALE >= 0.5 ? 30_000 : 5_000;
const KEEPALIVE_S = 45;
const KiB = 1024;
const MiB = 1024 * 1024;

const wsPath = (url: string): string => `${url.replace('http:', 'ws:')}/api/v2/device`;

/**
 * The kernel's TcpExt ListenOverflows counter (connections dropped because a listener's accept
 * queue was full; the client then waits for a SYN-ACK retransmission, 1 s and doubling). It is
 * machine-wide: read it around a storm to see whether the accept queues overflowed.
 */
function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = (lines[i] ?? '').split(/\s+/);
      const values = (lines[i + 1] ?? '').split(/\s+/);
      if (names[0] !== 'TcpExt:') continue;
      const at = names.indexOf('ListenOverflows');
      return at > 0 ? Number(values[at]) : undefined;
    }
  } catch {
    // not Linux
  }
  return undefined;
}

/**
 * Runs a storm and logs the listen-queue overflows seen meanwhile and the CPU each process
 * taking part spent on it (µs per device), which is what bounds a storm on a busy machine.
 */
async function storm(
  name: string,
  cpu: CpuProbes,
  run: () => Promise<StormResult>,
): Promise<StormResult> {
  const before = listenOverflows();
  const meter = cpuMeter(cpu);
  const s = await run();
  const after = listenOverflows();
  stormLine(name, s);
  if (before !== undefined && after !== undefined)
    log(`  ${name}: kernel listen-queue overflows meanwhile: ${after - before}`);
  log(`  ${name}: CPU per device (µs): ${meter(s.open)}`);
  return s;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

function stormLine(name: string, s: StormResult): void {
  const t = s.times;
  log(
    `${name}: ${s.open} connected in ${(s.ms / 1000).toFixed(2)} s (${s.failed} failed, ` +
      `${s.retries} retries)${s.error ? `; first failure: ${s.error}` : ''}`,
  );
  log(
    `  ${name}: connect time p50 ${(pct(t, 50) / 1000).toFixed(2)} s, p90 ${(pct(t, 90) / 1000).toFixed(2)} s, ` +
      `p99 ${(pct(t, 99) / 1000).toFixed(2)} s; backoff waited ${(s.backoffMs / 1000).toFixed(1)} device-s`,
  );
  const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0)
    log(`  ${name}: failed attempts: ${reasons.map(([k, v]) => `${k} x${v}`).join(', ')}`);
}

function perConn(base: number, after: number, n: number): number {
  return (after - base) / Math.max(1, n) / KiB;
}

async function main(): Promise<void> {
  log(`devices: ${DEVICES} per server, ${WORKERS} device processes`);
  onCleanup(raiseListenQueue(log));
  const themis = await startThemis();
  onCleanup(() => themis.stop());
  const talaria = await startTalariaService({ jwtKeysUrl: themis.keysUrl });
  onCleanup(() => talaria.stop());
  const petasos = await startPetasos({ static: { talaria: [talaria.url] } });
  onCleanup(() => petasos.stop());
  const bare = await startBareServer();
  onCleanup(() => bare.server.stop());
  const mosquitto = await startMosquitto();
  onCleanup(() => mosquitto.stop());
  const fleet = await DeviceFleet.start(WORKERS);
  onCleanup(() => fleet.kill());

  const tok = await fleet.tokens(themis.url, DEVICES);
  log(
    `tokens: ${tok.count} JWTs from Themis in ${(tok.ms / 1000).toFixed(1)} s (${tok.failed} failed)`,
  );
  if (tok.failed > 0) throw new Error('Themis did not issue every token');

  // Warm the device processes up (JIT, allocator) with a whole storm on the bare server first,
  // so the storm that runs first is not the only one paying for it; every one is dropped again.
  const bareTarget = { kind: 'ws', url: wsPath(bare.url), bearer: true, echo: 'wrp' } as const;
  const warm = await fleet.connect(bareTarget, DEVICES);
  log(
    `warm-up: ${warm.open} devices on the bare server in ${(warm.ms / 1000).toFixed(2)} s, dropped again`,
  );
  await fleet.disconnectAll();

  const baseOpts = { minMs: BASE_MIN_MS };
  const [talBase, bareBase] = await Promise.all([
    talaria.server.settledMemory(SETTLE_MS, baseOpts),
    bare.server.settledMemory(SETTLE_MS, baseOpts),
  ]);
  const mqBase = mosquitto.rss();

  const drained = async (): Promise<void> => {
    await fleet.disconnectAll();
    for (let i = 0; i < 300 && (await talaria.metric('xmidt_talaria_device_count')) > 0; i++)
      await sleep(100);
  };

  // Talaria directly, with JWTs (issue 3's comparison: the same clients and headers as the
  // bare server's storm below; the bare server ignores the token)
  const directStorm = await storm(
    'talaria direct',
    { talaria: () => talaria.server.cpuMs(), devices: () => fleet.cpuMs() },
    () =>
      fleet.connect({ kind: 'ws', url: wsPath(talaria.url), bearer: true, echo: 'wrp' }, DEVICES),
  );
  const talMem: Memory = await talaria.server.settledMemory(SETTLE_MS);
  const talHeld = await talaria.metric('xmidt_talaria_device_count');
  log(
    `talaria: held ${talHeld}, RSS ${(talBase.rss / MiB).toFixed(1)} -> ${(talMem.rss / MiB).toFixed(1)} MiB`,
  );
  await drained();

  // Talaria through Petasos with JWTs (what a fleet rebooting at once does)
  const talStorm = await storm(
    'talaria via petasos',
    {
      talaria: () => talaria.server.cpuMs(),
      petasos: () => petasos.server.cpuMs(),
      devices: () => fleet.cpuMs(),
    },
    () =>
      fleet.connect(
        { kind: 'ws', url: wsPath(petasos.url), followRedirects: true, bearer: true, echo: 'wrp' },
        DEVICES,
      ),
  );
  const viaHeld = await talaria.metric('xmidt_talaria_device_count');
  await drained();
  await talaria.stop();
  await petasos.stop();

  // Mosquitto
  const mqStorm = await storm(
    'mosquitto',
    { mosquitto: () => mosquitto.cpuMs(), devices: () => fleet.cpuMs() },
    () =>
      fleet.connect(
        {
          kind: 'mqtt',
          host: mosquitto.host,
          port: mosquitto.port,
          keepAlive: KEEPALIVE_S,
          version: 4,
        },
        DEVICES,
      ),
  );
  await sleep(Math.min(SETTLE_MS, 5000));
  const mqRss = mosquitto.rss();
  const mqHeld = (await fleet.status()).open;
  log(
    `mosquitto: held ${mqHeld}, RSS ${(mqBase / MiB).toFixed(1)} -> ${(mqRss / MiB).toFixed(1)} MiB`,
  );
  await fleet.disconnectAll();
  await mosquitto.stop();

  // bare ws
  const bareStorm = await storm(
    'bare ws',
    { server: () => bare.server.cpuMs(), devices: () => fleet.cpuMs() },
    () => fleet.connect({ kind: 'ws', url: wsPath(bare.url), bearer: true, echo: 'wrp' }, DEVICES),
  );
  const bareMem = await bare.server.settledMemory(SETTLE_MS);
  const bareHeld = (await fleet.status()).open;
  log(
    `bare ws: held ${bareHeld}, RSS ${(bareBase.rss / MiB).toFixed(1)} -> ${(bareMem.rss / MiB).toFixed(1)} MiB`,
  );
  await fleet.close();

  const talPer = perConn(talBase.rss, talMem.rss, talHeld);
  const barePer = perConn(bareBase.rss, bareMem.rss, bareHeld);
  const mqPer = perConn(mqBase, mqRss, mqHeld);
  const n = DEVICES.toLocaleString('en-US');
  /** A storm-time row: ours against one baseline's storm, with both failure counts. */
  const stormRow = (
    path: string,
    ours: StormResult,
    [name, base]: [string, StormResult],
    goal: number,
    note: string,
  ): ResultRow => ({
    scenario: 'storm',
    metric: `connect storm ${path}, ${n} devices (s)`,
    ours: ours.ms / 1000,
    baseline: { name, value: base.ms / 1000 },
    better: 'lower',
    goal,
    note: `${note ? `${note}; ` : ''}failed ${ours.failed} / ${base.failed}`,
  });
  const rows: ResultRow[] = [
    {
      scenario: 'idle',
      metric: `RSS per idle device, ${n} held (KiB)`,
      ours: talPer,
      baseline: { name: 'bare ws', value: barePer },
      better: 'lower',
      goal: 2,
      note: `held ${talHeld} / ${bareHeld}`,
    },
    {
      scenario: 'idle',
      metric: `RSS per idle device, ${n} held (KiB)`,
      ours: talPer,
      baseline: { name: 'Mosquitto', value: mqPer },
      better: 'lower',
      goal: 8,
      note: `Mosquitto held ${mqHeld}, keep-alive ${KEEPALIVE_S} s`,
    },
    stormRow('straight to Talaria', directStorm, ['bare ws', bareStorm], 2, 'Themis JWT verified'),
    stormRow(
      'through Petasos',
      talStorm,
      ['bare ws', bareStorm],
      4,
      'Petasos 307, then Talaria with the JWT',
    ),
    stormRow('through Petasos', talStorm, ['Mosquitto', mqStorm], 4, ''),
  ];
  rows.push({
    scenario: 'storm',
    metric: 'devices held after the storm through Petasos',
    ours: viaHeld,
    better: 'higher',
    goal: DEVICES,
  });
  emit(rows);
}

runScenario('devices', 15 * 60_000, main);
