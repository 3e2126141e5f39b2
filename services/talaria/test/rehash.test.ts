import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HashRing } from '../src/deps/index.js';
import type { Discovery, InstanceSets } from '../src/deps/index.js';
import { connectDevice, rejectedConnect, startTalaria, waitUntil } from './helpers.js';
import type { FakeDevice, Running } from './helpers.js';

/** Static discovery whose instance list a test can change. */
class UpdatableDiscovery implements Discovery {
  readonly datacenter = 'dc1';
  private sets: InstanceSets = new Map([['dc1', []]]);
  private readonly watchers = new Set<(s: InstanceSets) => void>();
  registered: string[] = [];
  set(urls: string[]): void {
    this.sets = new Map([['dc1', [...urls].sort()]]);
    for (const w of this.watchers) w(this.sets);
  }
  async register(_service: string, url: string) {
    this.registered.push(url);
    return {
      deregister: async () => void (this.registered = this.registered.filter((u) => u !== url)),
    };
  }
  watch(_service: string, onChange: (s: InstanceSets) => void) {
    this.watchers.add(onChange);
    onChange(this.sets);
    return { current: () => this.sets, close: () => void this.watchers.delete(onChange) };
  }
  async close() {}
}

let discovery: UpdatableDiscovery;
let a: Running;
let b: Running;

before(async () => {
  discovery = new UpdatableDiscovery();
  const cfg = (host: string) => ({
    primary: { host, port: 0 },
    device: { rehasher: { rate: 50 } },
  });
  a = await startTalaria(cfg('127.0.0.2'), { discovery });
  b = await startTalaria(cfg('127.0.0.3'), { discovery });
});
after(async () => {
  await a.stop();
  await b.stop();
});

function idsOwnedBy(ring: HashRing, owner: string, n: number, offset = 0): string[] {
  const out: string[] = [];
  for (let i = offset; out.length < n; i++) {
    const id = `mac:${i.toString(16).padStart(12, '0')}`;
    if (ring.get(id) === owner) out.push(id);
  }
  return out;
}

test('both instances registered their advertised URLs', () => {
  assert.deepEqual([...discovery.registered].sort(), [a.talaria.url, b.talaria.url].sort());
  assert.equal(a.talaria.url, a.base);
});

test('a device that hashes to the other instance gets a 307 to it', async () => {
  discovery.set([a.talaria.url, b.talaria.url]);
  const ring = new HashRing([a.talaria.url, b.talaria.url]);
  const [id] = idsOwnedBy(ring, b.talaria.url, 1);
  const r = await rejectedConnect(a.ws, { 'X-Webpa-Device-Name': id }, '/api/v2/device');
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, `${b.talaria.url}/api/v2/device`);
  const d = await connectDevice(b.ws, id as string);
  await d.close();
});

test('rehash: devices now owned elsewhere are disconnected, the rest stay; empty set drops all', async () => {
  discovery.set([a.talaria.url]);
  const ring = new HashRing([a.talaria.url, b.talaria.url]);
  const moving = idsOwnedBy(ring, b.talaria.url, 10, 100);
  const staying = idsOwnedBy(ring, a.talaria.url, 10, 100);
  const devices = new Map<string, FakeDevice>();
  for (const id of [...moving, ...staying]) devices.set(id, await connectDevice(a.ws, id));
  await waitUntil(() => a.talaria.devices.size === 20);

  discovery.set([a.talaria.url, b.talaria.url]);
  await waitUntil(() => a.talaria.devices.size === 10, 5000);
  for (const id of moving) {
    const d = devices.get(id) as FakeDevice;
    await d.closed();
    assert.equal(d.closeCode, 1001);
    assert.equal(d.closeReason, 'rehash-other-instance');
  }
  for (const id of staying) assert.ok(a.talaria.devices.has(id));
  const text = await (await fetch(`${a.admin}/metrics`)).text();
  assert.match(text, /xmidt_talaria_rehash_disconnect_device\{service="talaria"\} 10/);
  assert.match(text, /xmidt_talaria_rehash_keep_device\{service="talaria"\} 10/);
  assert.match(text, /xmidt_talaria_disconnect_count\{reason="rehash-other-instance"\} 10/);

  discovery.set([]);
  await waitUntil(() => a.talaria.devices.size === 0, 5000);
  for (const id of staying) {
    const d = devices.get(id) as FakeDevice;
    await d.closed();
    assert.equal(d.closeReason, 'service-discovery-no-instances');
  }
});
