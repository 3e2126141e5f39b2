import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { EventReceiver, startTalaria, waitUntil } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const fds = (): number => readdirSync('/proc/self/fd').length;

async function heap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

function cycle(url: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { 'X-Webpa-Device-Name': id } });
    ws.once('open', () => ws.close(1000, 'parodus_stopping'));
    ws.once('close', () => resolve());
    ws.once('error', reject);
  });
}

test('10,000 connect/disconnect cycles: no growth in heap or file descriptors', async (ctx) => {
  const rx = new EventReceiver();
  await rx.start();
  const t = await startTalaria({
    device: { outbound: { eventEndpoints: { default: rx.url }, workerPoolSize: 20 } },
  });
  try {
    const url = `${t.ws}/api/v2/device`;
    const run = async (cycles: number, offset: number): Promise<void> => {
      const workers = 40;
      let next = 0;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          while (next < cycles) {
            const i = offset + next++;
            await cycle(url, `mac:${(i % 500).toString(16).padStart(12, '0')}`);
          }
        }),
      );
      await waitUntil(() => t.talaria.devices.size === 0, 10_000);
    };
    await run(1000, 0); // warm up pools, JIT and the event receiver
    await waitUntil(() => rx.events.length >= 2000, 20_000);
    rx.events.length = 0;
    rx.requests.length = 0;
    const fdBefore = fds();
    const heapBefore = await heap();
    await run(10_000, 1000);
    await waitUntil(() => rx.events.length >= 20_000, 30_000);
    rx.events.length = 0;
    rx.requests.length = 0;
    await new Promise((r) => setTimeout(r, 200));
    const fdAfter = fds();
    const heapAfter = await heap();
    ctx.diagnostic(`fds ${fdBefore} -> ${fdAfter}; heap ${heapBefore} -> ${heapAfter}`);
    assert.ok(fdAfter - fdBefore <= 20, `fds ${fdBefore} -> ${fdAfter}`);
    const growth = heapAfter - heapBefore;
    assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${growth} bytes`);
    const text = await (await fetch(`${t.admin}/metrics`)).text();
    assert.match(text, /xmidt_talaria_connect_count 11000/);
    assert.match(text, /xmidt_talaria_device_count 0/);
  } finally {
    await t.stop();
    await rx.stop();
  }
});
