import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { encodeMsgpack } from '@xmidt/wrp';
import {
  BASIC,
  EventReceiver,
  connectDevice,
  metricValue,
  startTalaria,
  waitUntil,
} from './helpers.js';
import type { Running } from './helpers.js';

let t: Running;
let rx: EventReceiver;
before(async () => {
  rx = new EventReceiver();
  await rx.start();
  t = await startTalaria({
    device: {
      manager: {
        pingPeriod: '200ms',
        idlePeriod: '2s',
        writeTimeout: '2s',
        sweepInterval: '50ms',
        maxMessageBytes: 64 * 1024,
        deviceMessageQueueSize: 4,
      },
      outbound: { eventEndpoints: { default: rx.url } },
    },
  });
});
after(async () => {
  await t.stop();
  await rx.stop();
});

test('pings carry the device id; pongs keep the device alive past the idle period', async () => {
  const d = await connectDevice(t.ws, 'mac:112233445566');
  await d.until(() => d.pings.length >= 12 || undefined, 8000);
  assert.equal(d.pings[0]?.toString(), 'mac:112233445566');
  assert.equal(d.closeCode, undefined);
  assert.ok((await metricValue(t.admin, 'xmidt_talaria_ping_count')) >= 12);
  assert.ok((await metricValue(t.admin, 'xmidt_talaria_pong_count')) >= 1);
  await d.close();
});

test('a device that never answers pings is dropped after the idle period', async () => {
  const ws = new WebSocket(`${t.ws}/api/v2/device`, {
    headers: { 'X-Webpa-Device-Name': 'mac:000000000bad' },
    autoPong: false,
  });
  ws.on('error', () => undefined);
  await new Promise((r) => ws.once('open', r));
  const code = await new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
  assert.equal(code, 1006); // terminated, no close handshake
  const off = await rx.waitFor((m) => m.dest === 'event:device-status/mac:000000000bad/offline');
  const payload = JSON.parse(Buffer.from(off.payload ?? []).toString());
  assert.equal(payload['reason-for-closure'], 'idle timeout:readerror');
});

test('duplicate id: newest wins, old one closes with reason duplicate and goes offline', async () => {
  const first = await connectDevice(t.ws, 'mac:aaaaaaaaaaaa');
  const firstSession = t.talaria.devices.get('mac:aaaaaaaaaaaa')?.info.sessionId;
  const second = await connectDevice(t.ws, 'mac:AA:AA:AA:AA:AA:AA');
  assert.equal(await first.closed(), 1008);
  assert.equal(first.closeReason, 'duplicate');
  const conn = t.talaria.devices.get('mac:aaaaaaaaaaaa');
  assert.notEqual(conn?.info.sessionId, firstSession);
  assert.equal(conn?.duplications, 1);
  const off = await rx.waitFor((m) => m.dest?.endsWith('aaaaaaaaaaaa/offline') === true);
  assert.equal(off.sessionId, firstSession);
  const payload = JSON.parse(Buffer.from(off.payload ?? []).toString());
  assert.equal(payload['reason-for-closure'], '*no error*:duplicate');
  // the replaced connection did not remove the new one
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(t.talaria.devices.has('mac:aaaaaaaaaaaa'));
  assert.equal(second.closeCode, undefined);
  await second.close();
});

test('oversized frames close the connection with 1009; the server stays up', async () => {
  const d = await connectDevice(t.ws, 'mac:000000000b16');
  d.ws.send(Buffer.alloc(128 * 1024, 1), { binary: true });
  assert.equal(await d.closed(), 1009);
  const ok = await connectDevice(t.ws, 'mac:000000000b17');
  await ok.close();
});

test('garbage and invalid WRP frames are dropped; the connection survives', async () => {
  const d = await connectDevice(t.ws, 'mac:00000000dead');
  const before = await metricValue(t.admin, 'xmidt_talaria_device_invalid_messages_total');
  d.ws.send(Buffer.from([0xc1, 0xff, 0x00, 0x13]), { binary: true });
  d.ws.send(encodeMsgpack({ msgType: 99 }), { binary: true });
  d.ws.send(Buffer.from([0x81, 0xa1, 0x61, 0xdb, 0xff, 0xff, 0xff, 0xff]), { binary: true });
  d.ws.send('text frame');
  await waitUntil(() => (t.talaria.devices.get('mac:00000000dead')?.messagesReceived ?? 0) >= 4);
  const after = await metricValue(t.admin, 'xmidt_talaria_device_invalid_messages_total');
  assert.equal(after - before, 4);
  // still usable: an event goes through
  d.send({
    msgType: 4,
    source: 'mac:00000000dead/x',
    dest: 'event:test/x',
    payload: Buffer.from('hi'),
  });
  await rx.waitFor((m) => m.dest === 'event:test/x');
  await d.close();
});

test('a device that never reads: its queue stays bounded, it is dropped, the server is fine', async () => {
  const id = 'mac:0000000510e1';
  const d = await connectDevice(t.ws, id);
  // stop reading from the socket: the kernel buffers fill up, then the server's writes stall
  (d.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const big = encodeMsgpack({
    msgType: 4,
    source: 'dns:test',
    dest: `${id}/svc`,
    payload: Buffer.alloc(60 * 1024, 7),
  });
  const statuses: number[] = [];
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < 80; i++) {
    inflight.push(
      fetch(`${t.base}/api/v2/device/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/msgpack', authorization: BASIC },
        body: big,
      }).then(async (r) => {
        statuses.push(r.status);
        await r.arrayBuffer();
      }),
    );
  }
  await waitUntil(() => statuses.includes(503), 10_000);
  const conn = t.talaria.devices.get(id);
  assert.ok(conn === undefined || conn.pending <= 4);
  // other devices and the API keep working meanwhile
  const other = await connectDevice(t.ws, 'mac:0000000510e2');
  assert.equal((await fetch(`${t.base}/api/v2/devices`)).status, 200);
  // the write timeout disconnects the stuck device and fails its waiting requests
  await Promise.all(inflight);
  assert.ok(
    statuses.every((s) => s === 200 || s === 503 || s === 504),
    String(statuses),
  );
  await waitUntil(() => !t.talaria.devices.has(id), 10_000);
  const off = await rx.waitFor((m) => m.dest === `event:device-status/${id}/offline`, 10_000);
  const payload = JSON.parse(Buffer.from(off.payload ?? []).toString());
  assert.match(payload['reason-for-closure'], /write-error|readerror/);
  await other.close();
  d.ws.terminate();
});
