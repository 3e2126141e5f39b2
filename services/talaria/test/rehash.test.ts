import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HashRing } from '@xmidt/hashring';
import { startEtcd } from '@xmidt/testkit';
import type { TestEtcd } from '@xmidt/testkit';
import { connectDevice, metricValue, rejectedConnect, startTalaria, waitUntil } from './helpers.js';
import type { FakeDevice, Running } from './helpers.js';

// Two Talarias registered in a real etcd. They listen on different loopback addresses so that
// their ring node names (hostnames) differ.

let etcd: TestEtcd;
let a: Running;
let b: Running | undefined;
const prefix = `/talaria-test-${randomBytes(4).toString('hex')}`;

const config = (host: string) => ({
  primary: { host, port: 0 },
  discovery: {
    type: 'etcd',
    datacenter: 'dc1',
    etcd: { endpoints: [etcd.endpoint], prefix, leaseTtlSeconds: 5 },
  },
  device: { rehasher: { rate: 50 } },
});

before(async () => {
  etcd = await startEtcd();
  a = await startTalaria(config('127.0.0.2'));
});
after(async () => {
  await b?.stop();
  await a?.stop();
  await etcd?.stop();
});

function instancesOf(t: Running): readonly string[] {
  return t.talaria.ring?.instances ?? [];
}

function idsOwnedBy(ring: HashRing, owner: string, n: number, offset: number): string[] {
  const out: string[] = [];
  for (let i = offset; out.length < n; i++) {
    const id = `mac:${i.toString(16).padStart(12, '0')}`;
    if (ring.get(id) === owner) out.push(id);
  }
  return out;
}

test('registration, 307 to the owner, rehash when an instance joins, ring shrinks when it stops', async () => {
  await waitUntil(() => instancesOf(a).join() === a.talaria.url);

  // Alone in the ring, A owns every device.
  const bUrl = 'http://127.0.0.3'; // B's host; its port is not known yet
  const devices = new Map<string, FakeDevice>();
  for (let i = 0; i < 20; i++) {
    const id = `mac:${(0x100 + i).toString(16).padStart(12, '0')}`;
    devices.set(id, await connectDevice(a.ws, id));
  }
  await waitUntil(() => a.talaria.devices.size === 20);

  const started = await startTalaria(config('127.0.0.3'));
  b = started;
  assert.ok(started.talaria.url.startsWith(bUrl));
  const both = [a.talaria.url, started.talaria.url].sort();
  await waitUntil(() => instancesOf(a).join() === both.join());
  await waitUntil(() => instancesOf(started).join() === both.join());

  // Devices that now hash to B are disconnected from A; the others stay.
  const ring = new HashRing(both);
  const moving = [...devices.keys()].filter((id) => ring.get(id) === started.talaria.url);
  const staying = [...devices.keys()].filter((id) => ring.get(id) === a.talaria.url);
  assert.ok(moving.length > 0 && staying.length > 0, 'both instances own some of the devices');
  for (const id of moving) {
    const d = devices.get(id) as FakeDevice;
    await d.closed();
    assert.equal(d.closeCode, 1001);
    assert.equal(d.closeReason, 'rehash-other-instance');
  }
  await waitUntil(() => a.talaria.devices.size === staying.length);
  for (const id of staying) assert.ok(a.talaria.devices.has(id));
  assert.equal(
    await metricValue(a.admin, 'xmidt_talaria_rehash_disconnect_device', 'service="talaria"'),
    moving.length,
  );
  assert.equal(
    await metricValue(a.admin, 'xmidt_talaria_rehash_keep_device', 'service="talaria"'),
    staying.length,
  );

  // A moved device reconnecting to A is sent to B, and B accepts it.
  const [moved] = moving as [string];
  const r = await rejectedConnect(a.ws, { 'X-Webpa-Device-Name': moved });
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, `${started.talaria.url}/api/v2/device`);
  const onB = await connectDevice(started.ws, moved);
  // ... and B sends A's devices to A.
  const [kept] = idsOwnedBy(ring, a.talaria.url, 1, 0x1000) as [string];
  const back = await rejectedConnect(started.ws, { 'X-Webpa-Device-Name': kept }, '/api/v3/device');
  assert.equal(back.status, 307);
  assert.equal(back.headers.location, `${a.talaria.url}/api/v3/device`);

  // B stops: it deregisters, A's ring shrinks and A owns B's devices again.
  b = undefined;
  await started.stop();
  assert.equal(await onB.closed(), 1001);
  await waitUntil(() => instancesOf(a).join() === a.talaria.url);
  const again = await connectDevice(a.ws, moved);
  await waitUntil(() => a.talaria.devices.size === staying.length + 1);
  for (const id of staying) assert.ok(a.talaria.devices.has(id));

  // No instance left in etcd (the keys removed behind Talaria's back): every device goes.
  const range = (s: string) => Buffer.from(s).toString('base64');
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const del = await fetch(`${etcd.endpoint}/v3/kv/deleterange`, {
    method: 'POST',
    body: JSON.stringify({ key: range(prefix), range_end: range(end) }),
  });
  assert.equal(del.status, 200);
  await waitUntil(() => a.talaria.devices.size === 0, 5000);
  await again.closed();
  assert.equal(again.closeReason, 'service-discovery-no-instances');
  for (const id of staying) {
    assert.equal((devices.get(id) as FakeDevice).closeReason, 'service-discovery-no-instances');
  }
});
