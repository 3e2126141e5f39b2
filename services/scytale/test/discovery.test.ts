import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { createDiscovery } from '@xmidt/discovery';
import type { Discovery, Registration } from '@xmidt/discovery';
import { HashRing } from '@xmidt/hashring';
import { startEtcd, waitFor } from '@xmidt/testkit';
import type { TestEtcd } from '@xmidt/testkit';
import { encodeMsgpack } from '@xmidt/wrp';
import { FakeTalaria } from './fake-talaria.js';
import { scytaleConfig, startScytale } from './setup.js';
import type { Running } from './setup.js';

const DEVICE = 'mac:112233445566';

describe('scytale fans out to the Talarias registered in etcd', () => {
  let etcd: TestEtcd;
  let s: Running;
  /** dc1: three hosts (the ring hashes host names); dc2: one. */
  let dc1: FakeTalaria[];
  let dc2: FakeTalaria;
  const registrars: Discovery[] = [];
  const registrations = new Map<FakeTalaria, Registration>();

  const etcdConfig = (datacenter: string) => ({
    type: 'etcd' as const,
    datacenter,
    etcd: { endpoints: [etcd.endpoint], prefix: '/xmidt-scytale-test', leaseTtlSeconds: 5 },
  });

  before(async () => {
    etcd = await startEtcd();
    dc1 = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map(FakeTalaria.start));
    dc2 = await FakeTalaria.start('127.0.0.4');
    for (const t of [...dc1, dc2]) {
      t.behave = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/msgpack', 'x-talaria': t.url });
        res.end();
      };
    }
    s = await startScytale(scytaleConfig({}, { discovery: etcdConfig('dc1') }));
  });
  after(async () => {
    await s?.scytale.stop();
    for (const r of registrars) await r.close();
    for (const t of [...(dc1 ?? []), ...(dc2 ? [dc2] : [])]) await t.close();
    await etcd?.stop();
  });

  /** Sends one event; returns the status and which Talarias received it. */
  async function sendOnce(): Promise<{ status: number; reached: Set<string> }> {
    for (const t of [...dc1, dc2]) t.received.length = 0;
    const res = await request(`${s.base}/api/v3/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: encodeMsgpack({ msgType: 4, source: 'dns:x', dest: DEVICE }),
    });
    await res.body.dump();
    const reached = new Set([...dc1, dc2].filter((t) => t.received.length > 0).map((t) => t.url));
    return { status: res.statusCode, reached };
  }

  const ownerIn = (talarias: FakeTalaria[]): string =>
    new HashRing(talarias.map((t) => t.url).sort()).get(DEVICE) as string;

  async function expectReached(want: string[]): Promise<void> {
    await waitFor(async () => {
      const { status, reached } = await sendOnce();
      return status === 200 && reached.size === want.length && want.every((u) => reached.has(u));
    });
  }

  it('500 "no fanout URLs" while nothing is registered', async () => {
    const res = await request(`${s.base}/api/v3/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: encodeMsgpack({ msgType: 4, source: 'dns:x', dest: DEVICE }),
    });
    await res.body.dump();
    assert.equal(res.statusCode, 500);
    assert.equal(res.headers['x-xmidt-error'], 'no fanout URLs');
  });

  it('one owner per datacenter, as each datacenter ring says', async () => {
    const r1 = createDiscovery(etcdConfig('dc1'));
    const r2 = createDiscovery(etcdConfig('dc2'));
    registrars.push(r1, r2);
    for (const [i, t] of dc1.entries())
      registrations.set(t, await r1.register('talaria', t.url, `t${i}`));
    registrations.set(dc2, await r2.register('talaria', dc2.url, 'w0'));
    await expectReached([ownerIn(dc1), dc2.url]);
  });

  it('the device moves to another dc1 Talaria when its owner deregisters', async () => {
    const owner = dc1.find((t) => t.url === ownerIn(dc1))!;
    await registrations.get(owner)!.deregister();
    const left = dc1.filter((t) => t !== owner);
    const next = ownerIn(left);
    assert.notEqual(next, owner.url);
    await expectReached([next, dc2.url]);
    // and comes back when it registers again
    registrations.set(owner, await registrars[0]!.register('talaria', owner.url, 'back'));
    await expectReached([owner.url, dc2.url]);
  });

  it('a datacenter without instances drops out of the fan-out', async () => {
    await registrations.get(dc2)!.deregister();
    await expectReached([ownerIn(dc1)]);
  });
});
