import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { createDiscovery } from '@xmidt/discovery';
import type { Discovery, Registration } from '@xmidt/discovery';
import { HashRing } from '@xmidt/hashring';
import { createPetasos } from '../src/service.js';
import { petasosTestConfig } from './config.js';
import type { Petasos } from '../src/service.js';
import { startEtcd, waitFor } from './helpers.js';
import type { TestEtcd } from './helpers.js';

/** A stand-in Talaria: answers every request with its own URL. */
async function fakeTalaria(host: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.end(`talaria at ${host}`));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, server };
}

const DEVICES = Array.from(
  { length: 40 },
  (_, i) => `mac:0000000000${i.toString(16).padStart(2, '0')}`,
);

async function redirectsOf(base: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of DEVICES) {
    const res = await request(`${base}/api/v2/device`, { headers: { 'x-webpa-device-name': d } });
    await res.body.dump();
    out.set(d, res.statusCode === 307 ? String(res.headers.location) : `status ${res.statusCode}`);
  }
  return out;
}

function expected(instances: string[]): Map<string, string> {
  const ring = new HashRing([...instances].sort());
  return new Map(DEVICES.map((d) => [d, `${ring.get(d)}/api/v2/device`]));
}

const same = (a: Map<string, string>, b: Map<string, string>): boolean =>
  [...a].every(([k, v]) => b.get(k) === v);

describe('petasos follows etcd discovery', () => {
  let etcd: TestEtcd;
  let petasos: Petasos;
  let base: string;
  let talarias: Array<{ url: string; server: Server }>;
  let registrar: Discovery;
  let registrations: Registration[];

  before(async () => {
    etcd = await startEtcd();
    // three hosts: the ring hashes host names, so the fakes need distinct loopback addresses
    talarias = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map(fakeTalaria));
    const discovery = {
      type: 'etcd' as const,
      datacenter: 'dc1',
      etcd: { endpoints: [etcd.endpoint], prefix: '/xmidt-test', leaseTtlSeconds: 5 },
    };
    registrar = createDiscovery(discovery);
    const config = petasosTestConfig({
      discovery,
    });
    petasos = createPetasos(config);
    const ports = await petasos.start();
    base = `http://127.0.0.1:${ports.primaryPort}`;
  });

  after(async () => {
    await petasos?.stop();
    await registrar?.close();
    for (const t of talarias ?? []) t.server.close();
    await etcd?.stop();
  });

  it('500 before any Talaria registers', async () => {
    const res = await request(`${base}/api/v2/device`, {
      headers: { 'x-webpa-device-name': 'mac:112233445566' },
    });
    assert.equal(res.statusCode, 500);
    assert.equal(await res.body.text(), 'There are no instances available\n');
  });

  it('redirects to the three registered Talarias as the ring says, and the Location answers', async () => {
    registrations = await Promise.all(
      talarias.map((t, i) => registrar.register('talaria', t.url, `talaria-${i}`)),
    );
    const want = expected(talarias.map((t) => t.url));
    await waitFor(async () => same(want, await redirectsOf(base)));
    const owners = new Set(want.values());
    assert.equal(owners.size, 3, 'the 40 devices spread over all three');
    const location = want.get('mac:000000000000') as string;
    const res = await request(location);
    assert.equal(res.statusCode, 200);
    assert.match(await res.body.text(), /^talaria at 127\.0\.0\.\d$/);
  });

  it('moves the devices of a Talaria that deregisters', async () => {
    const before = await redirectsOf(base);
    await (registrations[1] as Registration).deregister();
    const left = [talarias[0]!.url, talarias[2]!.url];
    const want = expected(left);
    await waitFor(async () => same(want, await redirectsOf(base)));
    const after = await redirectsOf(base);
    let moved = 0;
    for (const [d, loc] of before) {
      if (loc.startsWith(talarias[1]!.url)) {
        assert.ok(!after.get(d)!.startsWith(talarias[1]!.url));
        moved++;
      } else assert.equal(after.get(d), loc, 'devices of the others stay');
    }
    assert.ok(moved > 0);
  });

  it('gives a Talaria that registers again its devices back', async () => {
    registrations[1] = await registrar.register('talaria', talarias[1]!.url, 'talaria-1-again');
    const want = expected(talarias.map((t) => t.url));
    await waitFor(async () => same(want, await redirectsOf(base)));
  });

  it('500 again when every Talaria is gone', async () => {
    await Promise.all(registrations.map((r) => r.deregister()));
    await waitFor(async () => {
      const res = await request(`${base}/`, {
        headers: { 'x-webpa-device-name': 'mac:112233445566' },
      });
      await res.body.dump();
      return res.statusCode === 500;
    });
  });
});
