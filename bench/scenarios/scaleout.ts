// Scenario (f) scale-out: 100,000 devices (x BENCH_SCALE) over 6 Talaria processes registered
// in etcd, each device sent by Petasos (etcd discovery) to its owner. Each Talaria listens on
// its own loopback address (127.0.1.k), so no destination holds more than ~17,000 of one
// device process's ports (the ephemeral range is ~28,000); the clients do not bind source
// addresses, which would make Linux scan for free ports on every connect. Every device
// process holds under 19,000 sockets (20,000 open files per process).
// Reported: devices held, RSS per device (sum over the Talarias), time to connect them all;
// then they are held for BENCH_HOLD (default 60s; the goal is 10m) and counted again.
//   BENCH_SCALE=0.005 BENCH_HOLD=10s npx tsx bench/scenarios/scaleout.ts
import { startEtcd } from '@xmidt/testkit';
import { DeviceFleet } from '../lib/device-fleet.js';
import { sleep } from '../lib/request-load.js';
import { emit } from '../lib/results.js';
import { envDuration, log, onCleanup, runScenario, scaled } from '../lib/scenario.js';
import { raiseListenQueue } from '../lib/listen-queue.js';
import { startPetasos, startTalariaService } from '../lib/services.js';
import type { ServiceUnderTest } from '../lib/services.js';

const DEVICES = scaled(100_000, 60);
const TALARIAS = Number(process.env['BENCH_TALARIAS'] ?? 6);
const PER_PROCESS = 16_000;
const WAVE = Number(process.env['BENCH_SCALEOUT_WAVE'] ?? 10_000);
const WORKERS = Math.max(2, Math.ceil(DEVICES / PER_PROCESS));
const HOLD_MS = envDuration('BENCH_HOLD', 60_000);
const MiB = 1024 * 1024;

async function held(talarias: ServiceUnderTest[]): Promise<number[]> {
  return Promise.all(talarias.map((t) => t.metric('xmidt_talaria_device_count')));
}

async function main(): Promise<void> {
  onCleanup(raiseListenQueue(log));
  const etcd = await startEtcd();
  onCleanup(() => etcd.stop());
  const discovery = { etcd: etcd.endpoint };
  const talarias: ServiceUnderTest[] = [];
  for (let k = 0; k < TALARIAS; k++) {
    const t = await startTalariaService({ host: `127.0.1.${k + 1}`, discovery });
    onCleanup(() => t.stop());
    talarias.push(t);
  }
  const petasos = await startPetasos(discovery);
  onCleanup(() => petasos.stop());
  await sleep(3000); // every ring sees all six instances
  const base = await Promise.all(
    talarias.map((t) => t.server.settledMemory(10_000, { minMs: 5000 })),
  );
  const fleet = await DeviceFleet.start(WORKERS);
  onCleanup(() => fleet.kill());
  log(`scaleout: ${DEVICES} devices, ${TALARIAS} Talarias in etcd, ${WORKERS} device processes`);

  // Connect in waves of WAVE devices: a device fleet reboots in waves too, and one Petasos
  // process cannot take 100,000 connects in the same instant on 2 cores.
  const started = performance.now();
  const storm = { open: 0, failed: 0, retries: 0, error: undefined as string | undefined, ms: 0 };
  for (let first = 1; first <= DEVICES; first += WAVE) {
    const wave = await fleet.connect(
      {
        kind: 'ws',
        url: `${petasos.url.replace('http:', 'ws:')}/api/v2/device`,
        followRedirects: true,
        echo: 'wrp',
      },
      Math.min(WAVE, DEVICES - first + 1),
      { firstId: first, maxRetries: 10, timeoutMs: 900_000 },
    );
    storm.open = wave.open; // the workers report every device they hold
    storm.failed += wave.failed;
    storm.retries += wave.retries;
    storm.error ??= wave.error;
    log(
      `scaleout: ${storm.open} connected so far (${(wave.ms / 1000).toFixed(1)} s for this wave)`,
    );
  }
  storm.ms = performance.now() - started;
  const counts = await held(talarias);
  const total = counts.reduce((a, b) => a + b, 0);
  log(
    `scaleout: ${storm.open} connected in ${(storm.ms / 1000).toFixed(1)} s (${storm.failed} failed, ` +
      `${storm.retries} retries${storm.error ? `, first failure: ${storm.error}` : ''}); ` +
      `per Talaria ${counts.join(' ')}`,
  );
  const after = await Promise.all(talarias.map((t) => t.server.settledMemory(30_000)));
  const rssDelta = after.reduce((a, m, i) => a + m.rss - (base[i]?.rss ?? 0), 0);
  log(`scaleout: RSS over the Talarias +${(rssDelta / MiB).toFixed(1)} MiB`);

  log(`scaleout: holding for ${(HOLD_MS / 1000).toFixed(0)} s`);
  const until = performance.now() + HOLD_MS;
  while (performance.now() < until) {
    await sleep(Math.min(30_000, until - performance.now()));
    const st = await fleet.status();
    log(
      `hold: talaria ${(await held(talarias)).reduce((a, b) => a + b, 0)}, devices open ${st.open}, dropped ${st.dropped}`,
    );
  }
  const end = (await held(talarias)).reduce((a, b) => a + b, 0);
  const st = await fleet.status();
  await fleet.close();

  emit([
    {
      scenario: 'scaleout',
      metric: `devices held after the storm (of ${DEVICES.toLocaleString('en-US')})`,
      ours: total,
      better: 'higher',
      goal: DEVICES,
      note: `per Talaria ${counts.join(' / ')}`,
    },
    {
      scenario: 'scaleout',
      metric: `devices held after ${(HOLD_MS / 1000).toFixed(0)} s`,
      ours: end,
      better: 'higher',
      goal: DEVICES,
      note: `${st.dropped} dropped by the server side`,
    },
    {
      scenario: 'scaleout',
      metric: 'time to connect all through Petasos (s)',
      ours: storm.ms / 1000,
      better: 'lower',
      goal: 120,
      note: `${storm.failed} failed, ${storm.retries} retries`,
    },
    {
      scenario: 'scaleout',
      metric: 'RSS per device over the Talarias (KiB)',
      ours: rssDelta / Math.max(1, total) / 1024,
      better: 'lower',
      goal: 32,
    },
  ]);
}

runScenario('scaleout', 15 * 60_000 + HOLD_MS, main);
