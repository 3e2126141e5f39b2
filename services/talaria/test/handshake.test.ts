import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { connectDevice, convey, rejectedConnect, startTalaria, waitUntil } from './helpers.js';
import type { Running } from './helpers.js';

let t: Running;
before(async () => {
  t = await startTalaria({ device: { manager: { maxDevices: 2 } } });
});
after(() => t.stop());

const NAME = 'X-Webpa-Device-Name';

test('a Parodus-style connect succeeds: Host without port, mixed-case mac, convey', async () => {
  const d = await connectDevice(t.ws, 'mac:11:22:33:AA:BB:CC');
  await waitUntil(() => t.talaria.devices.has('mac:112233aabbcc'));
  const conn = t.talaria.devices.get('mac:112233aabbcc');
  assert.equal(conn?.info.compliance, 'full');
  assert.equal(conn?.info.convey?.['boot-time'], 1700000000);
  assert.deepEqual(conn?.info.partnerIds, ['unknown']);
  assert.equal(conn?.info.sessionId.length, 27);
  await d.close();
  await waitUntil(() => !t.talaria.devices.has('mac:112233aabbcc'));
});

test('convey problems never reject; boot-time as string is kept', async () => {
  const a = await connectDevice(t.ws, 'mac:000000000001', { convey: 'not base64 json!!' });
  const b = await connectDevice(t.ws, 'mac:000000000002', {
    convey: convey({ 'boot-time': '1700000000' }),
  });
  await waitUntil(() => t.talaria.devices.size === 2);
  assert.equal(t.talaria.devices.get('mac:000000000001')?.info.compliance, 'invalid-convey');
  assert.equal(t.talaria.devices.get('mac:000000000002')?.info.convey?.['boot-time'], '1700000000');
  await Promise.all([a.close(), b.close()]);
  await waitUntil(() => t.talaria.devices.size === 0);
});

test('missing device name: 400 with the JSON body', async () => {
  const r = await rejectedConnect(t.ws, {});
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.body), {
    code: 400,
    message: 'failed to extract device ID: missing device name header',
  });
  assert.equal(r.headers['x-talaria-server'], 'localhost');
});

test('invalid device name: 400', async () => {
  for (const bad of ['mac:1234', 'foo:bar', 'mac:zz2233445566', '']) {
    const r = await rejectedConnect(t.ws, { [NAME]: bad });
    assert.equal(r.status, 400, bad);
    if (bad !== '') assert.match(JSON.parse(r.body).message, /invalid device name/);
  }
});

test('closed gate: 503 before anything else', async () => {
  t.talaria.gate.setOpen(false);
  try {
    const r = await rejectedConnect(t.ws, {});
    assert.equal(r.status, 503);
  } finally {
    t.talaria.gate.setOpen(true);
  }
});

test('gate filter blocks matching devices with 503', async () => {
  t.talaria.gate.setFilter('hw-model', ['Blocked']);
  try {
    const r = await rejectedConnect(t.ws, {
      [NAME]: 'mac:112233445577',
      'X-Webpa-Convey': convey({ 'hw-model': 'Blocked' }),
    });
    assert.equal(r.status, 503);
    const ok = await connectDevice(t.ws, 'mac:112233445577');
    await ok.close();
  } finally {
    t.talaria.gate.deleteFilter('hw-model');
  }
});

test('device limit: 503 before the upgrade; a duplicate id does not count', async () => {
  const a = await connectDevice(t.ws, 'mac:000000000011');
  const b = await connectDevice(t.ws, 'mac:000000000012');
  const r = await rejectedConnect(t.ws, { [NAME]: 'mac:000000000013' });
  assert.equal(r.status, 503);
  const dup = await connectDevice(t.ws, 'mac:000000000012');
  await b.closed();
  await Promise.all([a.close(), dup.close()]);
  await waitUntil(() => t.talaria.devices.size === 0);
});

test('non-upgrade requests and other paths', async () => {
  const plain = await fetch(`${t.base}/api/v2/device`, { headers: { [NAME]: 'mac:112233445566' } });
  assert.equal(plain.status, 400);
  const noName = await fetch(`${t.base}/api/v2/device`);
  assert.equal(noName.status, 400);
  const other = await rejectedConnect(t.ws, { [NAME]: 'mac:112233445566' }, '/api/v4/device');
  assert.equal(other.status, 404);
  const wrongVersion = await new Promise<number>((resolve) => {
    const req = request(`${t.base}/api/v2/device`, {
      headers: {
        [NAME]: 'mac:112233445566',
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '12',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('upgrade', () => resolve(101));
    req.end();
  });
  assert.equal(wrongVersion, 400);
});

test('garbage bytes on the listener do not hurt the server', async () => {
  const sock = connect(Number(new URL(t.base).port), '127.0.0.1');
  sock.on('error', () => undefined);
  sock.resume();
  await new Promise((r) => sock.once('connect', r));
  sock.write(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]));
  await new Promise((r) => sock.once('close', r));
  const d = await connectDevice(t.ws, 'mac:112233445599');
  await d.close();
});
