// Scenario (c) request-response at 1,000 devices (x BENCH_SCALE):
//   ours: POST /api/v2/device/send to Scytale -> Talaria -> device (WRP echo) and back;
//   relay: a minimal HTTP endpoint forwarding the body to the device's websocket and back,
//          no WRP (bench/lib/ws-relay.ts);
//   MQTT 5: request on req/<device> with a response topic and correlation data through
//           Mosquitto, answered by the device's client.
// Each: round trips/s with 32 in flight, then p50/p99 of round trips made one at a time.
//   BENCH_SCALE=0.1 npx tsx bench/scenarios/rr.ts
// Env: BENCH_RR_TIME (throughput measurement, default 5s; 2s below scale 0.5),
//      BENCH_RR_SAMPLES (latency samples, default 10,000, so that p99 rests on 100 of them; 300 below scale 0.5),
//      BENCH_RR_WARMUP (default 3s), BENCH_CONCURRENCY (default 32), BENCH_CPU_PROF (directory: the services write CPU profiles).
import { join } from 'node:path';
import { cpuMeter, selfCpuMs } from '../lib/cpu-meter.js';
import type { CpuProbes } from '../lib/cpu-meter.js';
import { DeviceFleet } from '../lib/device-fleet.js';
import { startMosquitto } from '../lib/mosquitto.js';
import {
  fleetIds,
  latencies,
  mqttRequester,
  percentile,
  relayRequester,
  throughput,
  wrpRequester,
} from '../lib/request-load.js';
import type { Requester } from '../lib/request-load.js';
import { emit } from '../lib/results.js';
import type { ResultRow } from '../lib/results.js';
import { SCALE, envDuration, log, onCleanup, runScenario, scaled } from '../lib/scenario.js';
import { REPO_ROOT, ServerProcess } from '../lib/server-process.js';
import { startScytale, startTalariaService } from '../lib/services.js';

const DEVICES = scaled(1000, 10);
const SMALL = SCALE < 0.5;
const RR_MS = envDuration('BENCH_RR_TIME', SMALL ? 2000 : 5000);
const SAMPLES = Number(process.env['BENCH_RR_SAMPLES'] ?? (SMALL ? 300 : 10_000));
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
// JIT warm-up before each measurement: a fresh service takes a few seconds to reach speed.
const WARMUP_MS = envDuration('BENCH_RR_WARMUP', 3000);

interface Figures {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(name: string, r: Requester, cpu: CpuProbes): Promise<Figures> {
  const meter = cpuMeter(cpu);
  const t = await throughput(r.roundTrip, CONCURRENCY, WARMUP_MS, RR_MS);
  log(`  ${name}: CPU per round trip at ${CONCURRENCY} in flight (µs): ${meter(t.total)}`);
  const lat = await latencies(r.roundTrip, SAMPLES, 30_000);
  const f = {
    rate: t.rate,
    p50: percentile(lat.sorted, 50),
    p99: percentile(lat.sorted, 99),
    errors: t.errors + lat.errors,
  };
  log(
    `${name}: ${f.rate.toFixed(0)} rr/s at ${CONCURRENCY} in flight; one at a time p50 ` +
      `${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms (${lat.sorted.length} samples, ` +
      `${f.errors} errors${t.firstError ? `: ${t.firstError}` : ''})`,
  );
  if (f.rate === 0) throw new Error(`${name}: no round trip succeeded`);
  return f;
}

async function main(): Promise<void> {
  const ids = fleetIds(DEVICES);
  const fleet = await DeviceFleet.start(Math.min(2, Math.ceil(DEVICES / 500)));
  onCleanup(() => fleet.kill());

  // ours: Scytale -> Talaria -> device
  const talaria = await startTalariaService();
  onCleanup(() => talaria.stop());
  const scytale = await startScytale({ static: { talaria: [talaria.url] } });
  onCleanup(() => scytale.stop());
  const s1 = await fleet.connect(`${talaria.url.replace('http:', 'ws:')}/api/v2/device`, DEVICES);
  log(`talaria: ${s1.open} devices connected (${s1.failed} failed)`);
  // straight to Talaria first (it warms Talaria for the Scytale run too), to tell Scytale's
  // share from Talaria's
  const directReq = wrpRequester(talaria.url, ids, CONCURRENCY);
  const direct = await measure('talaria alone', directReq, {
    talaria: () => talaria.server.cpuMs(),
    devices: () => fleet.cpuMs(),
    driver: selfCpuMs,
  });
  await directReq.close();
  const oursReq = wrpRequester(scytale.url, ids, CONCURRENCY, '/api/v2/device');
  const ours = await measure('scytale -> talaria', oursReq, {
    scytale: () => scytale.server.cpuMs(),
    talaria: () => talaria.server.cpuMs(),
    devices: () => fleet.cpuMs(),
    driver: selfCpuMs,
  });
  await oursReq.close();
  await fleet.disconnectAll();
  await scytale.stop();
  await talaria.stop();

  // relay baseline
  const relay = await ServerProcess.start(
    join(REPO_ROOT, 'bench/lib/ws-relay.ts'),
    [],
    (l) => typeof l['port'] === 'number',
  );
  onCleanup(() => relay.stop());
  const relayUrl = `http://127.0.0.1:${String(relay.started['port'])}`;
  const s2 = await fleet.connect(
    { kind: 'ws', url: `${relayUrl.replace('http:', 'ws:')}/`, echo: 'raw' },
    DEVICES,
  );
  log(`relay: ${s2.open} devices connected (${s2.failed} failed)`);
  const relayReq = relayRequester(relayUrl, ids, CONCURRENCY);
  const base = await measure('ws relay', relayReq, {
    relay: () => relay.cpuMs(),
    devices: () => fleet.cpuMs(),
    driver: selfCpuMs,
  });
  await relayReq.close();
  await fleet.disconnectAll();
  await relay.stop();

  // MQTT 5 request/response through Mosquitto
  const mosquitto = await startMosquitto();
  onCleanup(() => mosquitto.stop());
  const s3 = await fleet.connect(
    {
      kind: 'mqtt',
      host: mosquitto.host,
      port: mosquitto.port,
      keepAlive: 45,
      version: 5,
      responder: true,
    },
    DEVICES,
  );
  log(`mosquitto: ${s3.open} responders connected (${s3.failed} failed)`);
  const mqReq = await mqttRequester(mosquitto.host, mosquitto.port, ids);
  const mq = await measure('mqtt 5 via mosquitto', mqReq, {
    mosquitto: () => mosquitto.cpuMs(),
    devices: () => fleet.cpuMs(),
    driver: selfCpuMs,
  });
  await mqReq.close();
  await fleet.close();
  await mosquitto.stop();

  const n = DEVICES.toLocaleString('en-US');
  const rows: ResultRow[] = [];
  for (const [name, b, goals] of [
    ['ws relay', base, [0.5, 3, 3]],
    ['MQTT 5 Mosquitto', mq, [0.25, 4, 4]],
  ] as const) {
    rows.push(
      {
        scenario: 'rr',
        metric: `round trips/s, ${CONCURRENCY} in flight, ${n} devices`,
        ours: ours.rate,
        baseline: { name, value: b.rate },
        better: 'higher',
        goal: goals[0],
      },
      {
        scenario: 'rr',
        metric: 'latency p50, one at a time (ms)',
        ours: ours.p50,
        baseline: { name, value: b.p50 },
        better: 'lower',
        goal: goals[1],
      },
      {
        scenario: 'rr',
        metric: 'latency p99, one at a time (ms)',
        ours: ours.p99,
        baseline: { name, value: b.p99 },
        better: 'lower',
        goal: goals[2],
      },
    );
  }
  rows.push({
    scenario: 'rr',
    metric: `round trips/s, Talaria /device/send alone (no Scytale)`,
    ours: direct.rate,
    baseline: { name: 'ws relay', value: base.rate },
    better: 'higher',
    note: `p50 ${direct.p50.toFixed(2)} ms, p99 ${direct.p99.toFixed(2)} ms`,
  });
  // Scytale may add at most 30 % to a direct Talaria send: its rate >= 1 / 1.3 of the direct one.
  rows.push({
    scenario: 'rr',
    metric: `round trips/s through Scytale vs Talaria /device/send directly`,
    ours: ours.rate,
    baseline: { name: 'Talaria direct', value: direct.rate },
    better: 'higher',
    goal: 0.77,
  });
  if (ours.errors > 0) {
    rows.push({
      scenario: 'rr',
      metric: 'round-trip errors',
      ours: ours.errors,
      better: 'lower',
      goal: 0,
    });
  }
  emit(rows);
}

runScenario('rr', 5 * 60_000, main);
