// Caduceus throughput: notify intake (events/s), and signed deliveries/s to 10 and to 100
// webhooks, next to raw undici POSTs of the same bodies to the same receiver in the same run.
// Caduceus and the receiver run in child processes; load comes from this process over
// keep-alive connections. Bounded to about 30 s.
//   npx tsx bench/caduceus.ts
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { emit, type ResultRow } from './lib/results.js';
import { startCaduceus } from './lib/services.js';

const MEASURE_MS = Number(process.env['BENCH_MS'] ?? 3000);
const WARMUP_MS = 500;
const WORKERS_PER_SENDER = 16;
const RAW_CONCURRENCY = 64;
const SECRET = 'bench-secret';

// ---------------------------------------------------------------------------------------------
// a WRP SimpleEvent as msgpack (fixed field layout, written by hand so that the bench has no
// dependency on the codec it measures)

function str(s: string): Buffer {
  const b = Buffer.from(s);
  if (b.length < 32) return Buffer.concat([Buffer.from([0xa0 | b.length]), b]);
  return Buffer.concat([Buffer.from([0xd9, b.length]), b]);
}

function eventBytes(): Buffer {
  const payload = Buffer.from(
    JSON.stringify({ id: 'mac:112233445566', ts: Date.now(), status: 'online' }),
  );
  return Buffer.concat([
    Buffer.from([0x88]),
    str('msg_type'),
    Buffer.from([0x04]),
    str('source'),
    str('mac:112233445566/emu'),
    str('dest'),
    str('event:device-status/mac:112233445566/online'),
    str('transaction_uuid'),
    str('3b1f3c8e-6c43-4a4e-9c0e-6d8d7f0a2b11'),
    str('content_type'),
    str('application/json'),
    str('payload'),
    Buffer.from([0xc4, payload.length]),
    payload,
    str('partner_ids'),
    Buffer.from([0x91]),
    str('comcast'),
    str('qos'),
    Buffer.from([0x00]),
  ]);
}

// ---------------------------------------------------------------------------------------------
// child processes

const RECEIVER = `
const http = require('node:http');
let count = 0;
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { count++; res.end(); });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
setInterval(() => process.send({ count }), 20).unref();
process.on('message', (m) => { if (m === 'exit') process.exit(0); });
`;

interface Receiver {
  pid: number | undefined;
  url: string;
  count: () => number;
  stop: () => void;
}

function startReceiver(): Promise<Receiver> {
  const proc = spawn(process.execPath, ['-e', RECEIVER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let count = 0;
  return new Promise((resolve) => {
    proc.on('message', (m: { port?: number; count?: number }) => {
      if (m.count !== undefined) count = m.count;
      if (m.port !== undefined) {
        resolve({
          pid: proc.pid,
          url: `http://127.0.0.1:${m.port}`,
          count: () => count,
          stop: () => proc.kill(),
        });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// load

async function closedLoop(concurrency: number, ms: number, once: () => Promise<boolean>) {
  const until = Date.now() + ms;
  let ok = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) if (await once()) ok++;
    }),
  );
  return ok;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid ?? 'self'}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function main() {
  const rx = await startReceiver();
  const caduceus = await startCaduceus({
    workersPerSender: WORKERS_PER_SENDER,
    connectionsPerOrigin: RAW_CONCURRENCY,
  });
  const cad = { base: caduceus.url, pid: caduceus.server.pid };
  const notifyPool = new Pool(cad.base, { connections: 16 });
  const rxPool = new Pool(rx.url, { connections: RAW_CONCURRENCY });
  const body = eventBytes();
  const rows: [string, string, string, string][] = [];
  const resultRows: ResultRow[] = [];
  const cpuRows: string[] = [];
  const measure = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const pids = [cad.pid, rx.pid, undefined];
    const before = pids.map(cpuSeconds);
    const t0 = Date.now();
    const out = await fn();
    const secs = (Date.now() - t0) / 1000;
    const used = pids.map((p, i) => (cpuSeconds(p) - (before[i] as number)) / secs);
    cpuRows.push(
      `${label.padEnd(34)} caduceus ${used[0]!.toFixed(2)}  receiver ${used[1]!.toFixed(2)}  load ${used[2]!.toFixed(2)}`,
    );
    return out;
  };

  const notify = async () => {
    const r = await notifyPool.request({
      path: '/api/v4/notify',
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body,
    });
    await r.body.dump();
    return r.statusCode === 202;
  };
  const register = async (url: string, events = '.*', secret = SECRET) => {
    const r = await fetch(`${cad.base}/api/v3/hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-xmidt-partner-ids': 'comcast' },
      body: JSON.stringify({
        config: { url, content_type: 'wrp', secret },
        events: [events],
        duration: '1h',
      }),
    });
    if (r.status !== 200) throw new Error(`registration failed: ${r.status} ${await r.text()}`);
  };
  const unregister = async (url: string) => {
    await fetch(`${cad.base}/api/v3/hook?url=${encodeURIComponent(url)}`, { method: 'DELETE' });
  };

  // 1. intake alone (one webhook that matches nothing)
  await register(`${rx.url}/none`, '^never$');
  await closedLoop(16, WARMUP_MS, notify);
  const intake = await measure('intake', () => closedLoop(16, MEASURE_MS, notify));
  const intakeRate = intake / (MEASURE_MS / 1000);
  rows.push(['notify intake (events/s)', intakeRate.toFixed(0), '–', '–']);
  resultRows.push({
    scenario: 'caduceus',
    metric: 'notify intake (events/s)',
    ours: intakeRate,
    better: 'higher',
  });
  await unregister(`${rx.url}/none`);

  // raw baseline: the same request Caduceus makes (whole WRP, signed, the same headers),
  // straight from undici over the same number of connections
  const raw = async () => {
    const sig = `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`;
    const r = await rxPool.request({
      path: '/raw',
      method: 'POST',
      headers: {
        'x-xmidt-message-type': 'SimpleEvent',
        'x-xmidt-source': 'mac:112233445566/emu',
        'x-xmidt-transaction-uuid': '3b1f3c8e-6c43-4a4e-9c0e-6d8d7f0a2b11',
        'x-xmidt-partner-id': 'comcast',
        'x-webpa-event': 'device-status/mac:112233445566/online',
        'x-webpa-transaction-id': '3b1f3c8e-6c43-4a4e-9c0e-6d8d7f0a2b11',
        'x-webpa-device-id': 'mac:112233445566',
        'x-webpa-device-name': 'mac:112233445566',
        'x-webpa-source': 'mac:112233445566/emu',
        'x-webpa-destination': 'event:device-status/mac:112233445566/online',
        'content-type': 'application/msgpack',
        'x-webpa-signature': sig,
      },
      body,
    });
    await r.body.dump();
    return r.statusCode === 200;
  };
  await closedLoop(RAW_CONCURRENCY, WARMUP_MS, raw);
  const rawRate =
    (await measure('raw undici', () => closedLoop(RAW_CONCURRENCY, MEASURE_MS, raw))) /
    (MEASURE_MS / 1000);
  rows.push([
    `raw undici POST, ${RAW_CONCURRENCY} connections (req/s)`,
    rawRate.toFixed(0),
    '–',
    '1.00',
  ]);

  // 2. deliveries to N webhooks: keep at most `window` deliveries outstanding
  for (const n of [10, 100]) {
    const urls = Array.from({ length: n }, (_, i) => `${rx.url}/hook/${n}/${i}`);
    // a secret per webhook, as in life: one HMAC per delivery, as in the raw baseline
    for (const [i, u] of urls.entries()) await register(u, '.*', `${SECRET}-${i}`);
    const window = Number(process.env['BENCH_WINDOW'] ?? Math.max(1000, n * 10));
    let sent = 0;
    const start0 = rx.count();
    const drive = async (ms: number) => {
      const until = Date.now() + ms;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (Date.now() < until) {
            if (sent * n - (rx.count() - start0) > window) {
              await sleep(2);
              continue;
            }
            sent++;
            await notify();
          }
        }),
      );
    };
    await drive(WARMUP_MS);
    const c0 = rx.count();
    const t0 = Date.now();
    await measure(`${n} webhooks`, () => drive(MEASURE_MS));
    await sleep(25);
    const delivered = rx.count() - c0;
    const rate = delivered / ((Date.now() - t0) / 1000);
    rows.push([
      `signed deliveries to ${n} webhooks (deliveries/s)`,
      rate.toFixed(0),
      rawRate.toFixed(0),
      (rate / rawRate).toFixed(2),
    ]);
    resultRows.push({
      scenario: 'caduceus',
      metric: `signed deliveries/s to ${n} webhooks (notify -> Caduceus -> receiver)`,
      ours: rate,
      baseline: { name: 'raw undici POSTs', value: rawRate },
      better: 'higher',
      goal: 0.6,
    });
    // let queues drain, then remove the webhooks
    const deadline = Date.now() + 5000;
    while (rx.count() - start0 < sent * n && Date.now() < deadline) await sleep(20);
    for (const u of urls) await unregister(u);
  }

  await notifyPool.close();
  await rxPool.close();
  await caduceus.stop();
  rx.stop();

  const head: [string, string, string, string] = ['scenario', 'rate', 'raw undici', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(
    `caduceus bench (${MEASURE_MS} ms per scenario, ${WORKERS_PER_SENDER} workers per webhook)`,
  );
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log('CPU cores used per scenario:');
  for (const r of cpuRows) console.log(`  ${r}`);
  emit(resultRows);
}

await main();
