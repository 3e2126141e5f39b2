// Scenario (d) event fan-out: device events per second delivered to every subscriber.
//   ours: devices send WRP events over their websockets to Talaria, which posts them to
//         Caduceus, which delivers each one, signed, to 1 and to 10 webhooks (one receiver
//         process);
//   raw undici: this process POSTs the same bodies, signed with the same per-webhook secrets,
//         to the same receiver URLs (64 connections);
//   Mosquitto: one publisher, 1 and 10 subscribers on event/# (another process).
// Events are sent with a window: at most WINDOW deliveries outstanding.
//   BENCH_SCALE=0.2 npx tsx bench/scenarios/fanout.ts
// Env: BENCH_FANOUT_TIME (measurement, default 5s; 2s below scale 0.5), BENCH_CPU_PROF.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import { encodeMsgpack } from '@xmidt/wrp';
import { deviceId } from '../lib/fleet-protocol.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { MqttClient, encodePublish } from '../lib/mqtt.js';
import { cpuMeter, pidCpuMs, selfCpuMs } from '../lib/cpu-meter.js';
import type { CpuProbes } from '../lib/cpu-meter.js';
import { sleep } from '../lib/request-load.js';
import { emit } from '../lib/results.js';
import type { ResultRow } from '../lib/results.js';
import { SCALE, envDuration, log, onCleanup, runScenario, scaled } from '../lib/scenario.js';
import { startCaduceus, startTalariaService } from '../lib/services.js';

const SMALL = SCALE < 0.5;
const MEASURE_MS = envDuration('BENCH_FANOUT_TIME', SMALL ? 2000 : 5000);
const WARMUP_MS = 1000;
const DEVICES = scaled(100, 4);
const SECRET = 'bench-secret';
const SINK = fileURLToPath(new URL('../lib/sink.ts', import.meta.url));

interface Sink {
  child: ChildProcess;
  port: number;
  count(): number;
}

async function startSink(args: string[]): Promise<Sink> {
  const child = fork(SINK, args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  onCleanup(() => child.kill('SIGKILL'));
  let count = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: { port?: number; count?: number }) => {
      if (m.count !== undefined) count = m.count;
      if (m.port !== undefined) resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`sink exited ${code}`)));
  });
  return { child, port, count: () => count };
}

const payload = Buffer.from(
  JSON.stringify({ id: 'mac:000000000001', ts: 1700000000, status: 'online' }),
);
const eventOf = (n: number): Buffer =>
  encodeMsgpack({
    msgType: 4,
    source: `${deviceId(n)}/emu`,
    dest: `event:device-status/${deviceId(n)}/online`,
    transactionUuid: `3b1f3c8e-6c43-4a4e-9c0e-${n.toString(16).padStart(12, '0')}`,
    contentType: 'application/json',
    payload,
    partnerIds: ['comcast'],
  });

/**
 * Sends with `send()` while at most `window` deliveries are outstanding (sent x fan-out minus
 * delivered); returns events/s fully delivered during the measurement.
 */
async function windowed(
  send: () => void,
  delivered: () => number,
  fanout: number,
  window: number,
): Promise<number> {
  let sent = 0;
  const start = delivered();
  const run = async (ms: number): Promise<void> => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      const room = Math.floor((window - (sent * fanout - (delivered() - start))) / fanout);
      for (let i = 0; i < Math.min(room, 64); i++) {
        send();
        sent++;
      }
      await sleep(room > 0 ? 0 : 2);
    }
  };
  await run(WARMUP_MS);
  const c0 = delivered();
  const t0 = performance.now();
  await run(MEASURE_MS);
  const rate = (delivered() - c0) / fanout / ((performance.now() - t0) / 1000);
  const deadline = performance.now() + 5000;
  while (delivered() - start < sent * fanout && performance.now() < deadline) await sleep(20);
  return rate;
}

/**
 * Runs a measurement and logs the CPU each process spent per webhook delivery meanwhile (on a
 * 2-core machine, the sum over the processes bounds the rate).
 */
async function withCpu(
  name: string,
  cpu: CpuProbes,
  deliveries: () => number,
  run: () => Promise<number>,
): Promise<number> {
  const d0 = deliveries();
  const meter = cpuMeter(cpu);
  const rate = await run();
  log(`  ${name}: CPU per delivery (µs): ${meter(deliveries() - d0)}`);
  return rate;
}

async function main(): Promise<void> {
  const rx = await startSink(['http']);
  const rxCpu = pidCpuMs(rx.child.pid);
  const rxUrl = `http://127.0.0.1:${rx.port}`;
  const caduceus = await startCaduceus();
  onCleanup(() => caduceus.stop());
  const talaria = await startTalariaService({ eventEndpoint: `${caduceus.url}/api/v4/notify` });
  onCleanup(() => talaria.stop());

  // devices, in this process
  const sockets = await Promise.all(
    Array.from(
      { length: DEVICES },
      (_, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${talaria.url.replace('http:', 'ws:')}/api/v2/device`, {
            perMessageDeflate: false,
            headers: { 'X-WebPA-Device-Name': deviceId(i + 1) },
          });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  onCleanup(() => sockets.forEach((s) => s.terminate()));
  const events = sockets.map((_, i) => eventOf(i + 1));
  log(`fanout: ${DEVICES} devices connected to Talaria`);

  const register = async (url: string, secret: string): Promise<void> => {
    const r = await fetch(`${caduceus.url}/api/v3/hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-xmidt-partner-ids': 'comcast' },
      body: JSON.stringify({
        config: { url, content_type: 'wrp', secret },
        events: ['.*'],
        duration: '1h',
      }),
    });
    if (r.status !== 200) throw new Error(`registration: ${r.status} ${await r.text()}`);
  };
  const unregister = async (url: string): Promise<void> => {
    await fetch(`${caduceus.url}/api/v3/hook?url=${encodeURIComponent(url)}`, {
      method: 'DELETE',
    });
  };

  const rows: ResultRow[] = [];
  const ours = new Map<number, number>();
  const raw = new Map<number, number>();
  const rxPool = new Pool(rxUrl, { connections: 64 });
  onCleanup(() => rxPool.close());
  for (const n of [1, 10]) {
    const urls = Array.from({ length: n }, (_, i) => `${rxUrl}/hook/${n}/${i}`);
    for (const [i, u] of urls.entries()) await register(u, `${SECRET}-${i}`);
    let next = 0;
    const rate = await withCpu(
      `ours, ${n} webhook(s)`,
      {
        talaria: () => talaria.server.cpuMs(),
        caduceus: () => caduceus.server.cpuMs(),
        receiver: rxCpu,
        'devices + driver': selfCpuMs,
      },
      rx.count,
      () =>
        windowed(
          () => {
            const k = next++ % sockets.length;
            sockets[k]?.send(events[k] as Buffer, { binary: true });
          },
          rx.count,
          n,
          Math.max(500, n * 100),
        ),
    );
    ours.set(n, rate);
    log(`talaria -> caduceus -> ${n} webhooks: ${rate.toFixed(0)} events/s`);
    for (const u of urls) await unregister(u);

    // raw undici: the same bodies, signed, to the same URLs
    let k = 0;
    const rawRate = await withCpu(
      `raw undici, ${n} receiver(s)`,
      { receiver: rxCpu, 'undici driver': selfCpuMs },
      rx.count,
      () =>
        windowed(
          () => {
            const body = events[k++ % events.length] as Buffer;
            urls.forEach((u, i) => {
              const sig = `sha1=${createHmac('sha1', `${SECRET}-${i}`).update(body).digest('hex')}`;
              rxPool
                .request({
                  method: 'POST',
                  path: new URL(u).pathname,
                  headers: {
                    'content-type': 'application/msgpack',
                    'x-webpa-event': 'device-status',
                    'x-webpa-signature': sig,
                  },
                  body,
                })
                .then((r) => r.body.dump())
                .catch(() => undefined);
            });
          },
          rx.count,
          n,
          Math.max(500, n * 100),
        ),
    );
    raw.set(n, rawRate);
    log(`raw undici to ${n} receivers: ${rawRate.toFixed(0)} events/s`);
  }
  await Promise.all(sockets.map((s) => s.terminate()));
  await talaria.stop();
  await caduceus.stop();
  rx.child.kill();

  // Mosquitto: publish -> n subscribers
  const mosquitto = await startMosquitto();
  onCleanup(() => mosquitto.stop());
  const mq = new Map<number, number>();
  for (const n of [1, 10]) {
    const subs = await startSink(['mqtt', mosquitto.host, String(mosquitto.port), String(n)]);
    const pub = await MqttClient.connect({
      host: mosquitto.host,
      port: mosquitto.port,
      clientId: `pub-${n}`,
      keepAlive: 45,
      version: 4,
    });
    const packets = events.map((e, i) =>
      encodePublish(4, `event/device-status/${deviceId(i + 1)}/online`, e),
    );
    let k = 0;
    const rate = await windowed(
      () => pub.write(packets[k++ % packets.length] as Buffer),
      subs.count,
      n,
      Math.max(500, n * 100),
    );
    mq.set(n, rate);
    log(`mosquitto publish -> ${n} subscribers: ${rate.toFixed(0)} events/s`);
    pub.close();
    subs.child.kill();
  }
  await mosquitto.stop();

  for (const n of [1, 10]) {
    const o = ours.get(n) ?? 0;
    rows.push(
      {
        scenario: 'fanout',
        metric: `device events/s delivered to ${n} webhook${n > 1 ? 's' : ''}`,
        ours: o,
        baseline: { name: 'raw undici POSTs', value: raw.get(n) ?? 0 },
        better: 'higher',
        goal: 0.5,
        note: `${DEVICES} devices; deliveries/s = events/s x ${n}`,
      },
      {
        scenario: 'fanout',
        metric: `device events/s delivered to ${n} subscriber${n > 1 ? 's' : ''}`,
        ours: o,
        baseline: { name: 'Mosquitto', value: mq.get(n) ?? 0 },
        better: 'higher',
        goal: 0.1,
      },
    );
  }
  emit(rows);
}

runScenario('fanout', 5 * 60_000, main);
