// Scenarios (a) idle devices and (b) connect storm, in one run:
//   Talaria: devices fetch a JWT from Themis, then all connect at once through Petasos (307 to
//            Talaria, which verifies the JWT); then they stay idle (Talaria pings every 45 s).
//   Mosquitto: the same number of MQTT 3.1.1 clients, keep-alive 45 s, all at once.
//   bare ws: the same websocket devices straight to a `ws` server that does nothing else.
// Reported: connect-storm time, then RSS per idle connection once the server's RSS settles.
//   BENCH_SCALE=0.05 npx tsx bench/scenarios/devices.ts
// Env: BENCH_SCALE (15,000 devices x scale), BENCH_WORKERS (device processes, default 4),
//      BENCH_SETTLE (longest RSS settle wait, default 45s; 10s below scale 0.5).
import { readFileSync } from 'node:fs';
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

/** Runs a storm and logs the listen-queue overflows seen meanwhile. */
async function storm(name: string, run: () => Promise<StormResult>): Promise<StormResult> {
  const before = listenOverflows();
  const s = await run();
  const after = listenOverflows();
  stormLine(name, s);
  if (before !== undefined && after !== undefined)
    log(`  ${name}: kernel listen-queue overflows meanwhile: ${after - before}`);
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
  const themis = await startThemis();
  onCleanup(() => themis.stop());
  const talaria = await startTalariaService({ jwtKeysUrl: themis.keysUrl });
  onCleanup(() => talaria.stop());
  const petasos = await startPetasos({ static: { talaria: [talaria.url] } });
  onCleanup(() => petasos.stop());
  const bare = await startBareServer({ backlog: 4096 });
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

  // Warm the device processes up (JIT, allocator) on the bare server first, so the storm that
  // runs first is not the only one paying for it. Different ids; every one is dropped again.
  const warm = await fleet.connect(wsPath(bare.url), Math.min(DEVICES, 500), {
    firstId: DEVICES + 1,
  });
  log(`warm-up: ${warm.open} devices on the bare server, dropped again`);
  await fleet.disconnectAll();

  const baseOpts = { minMs: BASE_MIN_MS };
  const [talBase, bareBase] = await Promise.all([
    talaria.server.settledMemory(SETTLE_MS, baseOpts),
    bare.server.settledMemory(SETTLE_MS, baseOpts),
  ]);
  const mqBase = mosquitto.rss();

  // Talaria through Petasos with JWTs
  const talStorm = await storm('talaria via petasos', () =>
    fleet.connect(
      { kind: 'ws', url: wsPath(petasos.url), followRedirects: true, bearer: true, echo: 'wrp' },
      DEVICES,
    ),
  );
  const talMem: Memory = await talaria.server.settledMemory(SETTLE_MS);
  const talHeld = await talaria.metric('xmidt_talaria_device_count');
  log(
    `talaria: held ${talHeld}, RSS ${(talBase.rss / MiB).toFixed(1)} -> ${(talMem.rss / MiB).toFixed(1)} MiB`,
  );
  await fleet.disconnectAll();
  await talaria.stop();
  await petasos.stop();

  // Mosquitto
  const mqStorm = await storm('mosquitto', () =>
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
  const bareStorm = await storm('bare ws', () => fleet.connect(wsPath(bare.url), DEVICES));
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
    {
      scenario: 'storm',
      metric: `connect storm, ${n} devices (s)`,
      ours: talStorm.ms / 1000,
      baseline: { name: 'bare ws', value: bareStorm.ms / 1000 },
      better: 'lower',
      goal: 2,
      note: `ours via Petasos 307 + Themis JWT; failed ${talStorm.failed} / ${bareStorm.failed}`,
    },
    {
      scenario: 'storm',
      metric: `connect storm, ${n} devices (s)`,
      ours: talStorm.ms / 1000,
      baseline: { name: 'Mosquitto', value: mqStorm.ms / 1000 },
      better: 'lower',
      goal: 4,
      note: `Mosquitto failed ${mqStorm.failed}`,
    },
  ];
  rows.push({
    scenario: 'storm',
    metric: 'devices held after the storm',
    ours: talHeld,
    better: 'higher',
    goal: DEVICES,
  });
  emit(rows);
}

runScenario('devices', 15 * 60_000, main);
