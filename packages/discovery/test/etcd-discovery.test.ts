import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { freePort, startEtcd, waitFor, type TestEtcd } from '@xmidt/testkit';
import {
  ServiceRings,
  createDiscovery,
  type Discovery,
  type InstanceSets,
  type Watch,
} from '../src/index.js';
import { loadRingVectors } from './vectors.js';

const childScript = fileURLToPath(new URL('./fixtures/register-child.ts', import.meta.url));

let etcd: TestEtcd;
let admin: Etcd3;
const open: Discovery[] = [];

function discovery(prefix: string, datacenter = 'dc1', leaseTtlSeconds = 2): Discovery {
  const d = createDiscovery({
    type: 'etcd',
    datacenter,
    etcd: { endpoints: [etcd.endpoint], prefix, leaseTtlSeconds },
  });
  open.push(d);
  return d;
}

function freshPrefix(): string {
  return `/t-${randomBytes(4).toString('hex')}`;
}

/** A watch whose reports are recorded. */
function recorder(d: Discovery, service: string): { watch: Watch; seen: InstanceSets[] } {
  const seen: InstanceSets[] = [];
  const watch = d.watch(service, (s) => seen.push(s));
  return { watch, seen };
}

function plain(sets: InstanceSets): Record<string, readonly string[]> {
  return Object.fromEntries(sets);
}

async function until(w: Watch, expected: Record<string, string[]>, what: string): Promise<void> {
  await waitFor(() => assert.deepEqual(plain(w.current()), expected) === undefined, {
    timeoutMs: 15_000,
    what,
  }).catch((err: unknown) => {
    throw new Error(`${what}: have ${JSON.stringify(plain(w.current()))}`, { cause: err });
  });
}

before(async () => {
  etcd = await startEtcd();
  admin = new Etcd3({ hosts: etcd.endpoint });
});

after(async () => {
  for (const d of open) await d.close().catch(() => undefined);
  admin.close();
  await etcd.stop();
});

describe('etcd discovery', () => {
  it('reports registered instances; deregistration removes them', async () => {
    const prefix = freshPrefix();
    const d = discovery(prefix);
    const { watch, seen } = recorder(d, 'talaria');
    await waitFor(() => seen.length === 1, { what: 'initial report' });
    assert.deepEqual(seen[0], new Map()); // the initial (empty) set is reported

    const regs = await Promise.all([
      d.register('talaria', 'talaria-2:6200'),
      d.register('talaria', 'http://talaria-0:6200'),
      d.register('talaria', 'http://talaria-1:80', 'one'),
    ]);
    await d.register('petasos', 'http://petasos:6400'); // another service: not reported
    const all = ['http://talaria-0:6200', 'http://talaria-1', 'http://talaria-2:6200'];
    await until(watch, { dc1: all }, 'three instances');

    const keys = await admin.getAll().prefix(`${prefix}/dc1/talaria/`).strings();
    assert.equal(keys[`${prefix}/dc1/talaria/one`], 'http://talaria-1');
    assert.equal(
      keys[`${prefix}/dc1/talaria/${encodeURIComponent('http://talaria-0:6200')}`],
      all[0],
    );

    // a second watcher from another client sees the same
    const other = recorder(discovery(prefix), 'talaria');
    await until(other.watch, { dc1: all }, 'second watcher');

    await regs[1]?.deregister();
    await regs[1]?.deregister(); // idempotent
    await until(watch, { dc1: ['http://talaria-1', 'http://talaria-2:6200'] }, 'after deregister');
    await Promise.all([regs[0]?.deregister(), regs[2]?.deregister()]);
    await until(watch, {}, 'all deregistered');
    // every report differs from the one before it
    for (let i = 1; i < seen.length; i++) assert.notDeepEqual(seen[i], seen[i - 1]);
    other.watch.close();
  });

  it('drops an instance whose process died once its lease expires', async () => {
    const prefix = freshPrefix();
    const d = discovery(prefix);
    const { watch } = recorder(d, 'talaria');
    await d.register('talaria', 'http://alive:6200');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        childScript,
        etcd.endpoint,
        prefix,
        'dc1',
        'talaria',
        'http://doomed:6200',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await waitFor(
        () => new Promise<boolean>((resolve) => child.stdout.once('data', () => resolve(true))),
        { timeoutMs: 15_000, what: 'child registered' },
      );
      await until(watch, { dc1: ['http://alive:6200', 'http://doomed:6200'] }, 'child seen');
      child.kill('SIGKILL');
      // lease TTL 2 s: gone a couple of seconds later, while our own kept-alive lease stays
      await until(watch, { dc1: ['http://alive:6200'] }, 'expired lease removed');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('registers again when its lease is lost', async () => {
    const prefix = freshPrefix();
    const d = discovery(prefix);
    const { watch, seen } = recorder(d, 'talaria');
    await d.register('talaria', 'http://t:1', 'me');
    await until(watch, { dc1: ['http://t:1'] }, 'registered');
    const kv = await admin.get(`${prefix}/dc1/talaria/me`).exec();
    const leaseId = kv.kvs[0]?.lease;
    assert.ok(leaseId && leaseId !== '0');
    await admin.leaseClient.leaseRevoke({ ID: leaseId });
    // the key went away with the lease, then came back under a new one
    await waitFor(() => seen.some((s) => s.size === 0), { what: 'removal seen' });
    await until(watch, { dc1: ['http://t:1'] }, 're-registered');
    const again = await admin.get(`${prefix}/dc1/talaria/me`).exec();
    assert.notEqual(again.kvs[0]?.lease, leaseId);
  });

  it('sees every datacenter; ServiceRings keeps one ring per datacenter', async () => {
    const prefix = freshPrefix();
    const east = discovery(prefix, 'east');
    const west = discovery(prefix, 'west');
    const c = loadRingVectors().ring_hostname.find((x) => x.id === 'L02');
    assert.ok(c);
    const reports: number[] = [];
    const rings = new ServiceRings(east, 'talaria', { onChange: (r) => reports.push(r.size) });
    for (const url of c.instances) await west.register('talaria', url);
    await east.register('talaria', 'http://talaria-e:6200');
    await waitFor(() => rings.ring('west')?.instances.length === c.instances.length, {
      what: 'west ring',
    });
    await waitFor(() => rings.ring()?.instances.length === 1, { what: 'east ring' });
    for (const l of c.lookups) {
      assert.equal(rings.ring('west')?.get(l.key), l.owner);
      assert.deepEqual(
        rings.owners(l.key),
        new Map([
          ['east', 'http://talaria-e:6200'],
          ['west', l.owner],
        ]),
      );
    }
    assert.ok(reports.length >= 1);
    rings.close();
  });

  it('ServiceRings agrees with ring.json for the same instance lists', async () => {
    const prefix = freshPrefix();
    const d = discovery(prefix);
    const cases = loadRingVectors().ring_hostname.filter((x) => x.monitor_filter_fixed_point);
    for (const c of cases) {
      for (const url of c.instances) await d.register(c.id, url);
    }
    for (const c of cases) {
      const rings = new ServiceRings(d, c.id);
      await waitFor(() => rings.ring()?.instances.length === c.instances.length, { what: c.id });
      const ring = rings.ring();
      assert.ok(ring);
      for (const l of c.lookups) assert.equal(ring.get(l.key), l.owner, `${c.id} ${l.key}`);
      rings.close();
    }
  });

  it('keeps the last sets while etcd is down, then recovers watch and registrations', async () => {
    const prefix = freshPrefix();
    const d = discovery(prefix);
    const watcher = discovery(prefix);
    const { watch, seen } = recorder(watcher, 'talaria');
    await d.register('talaria', 'http://a:1');
    await d.register('talaria', 'http://b:1');
    await until(watch, { dc1: ['http://a:1', 'http://b:1'] }, 'before outage');
    const reportsBefore = seen.length;

    await etcd.kill();
    // longer than the 2 s lease: the registrations must come back by themselves
    await new Promise((r) => setTimeout(r, 5000));
    assert.deepEqual(plain(watch.current()), { dc1: ['http://a:1', 'http://b:1'] });
    assert.equal(seen.length, reportsBefore); // nothing reported during the outage

    await etcd.start();
    await watcher.register('talaria', 'http://c:1');
    await until(watch, { dc1: ['http://a:1', 'http://b:1', 'http://c:1'] }, 'after restart');
    // still there after several lease lifetimes: keep-alive / re-registration works
    await new Promise((r) => setTimeout(r, 4500));
    await until(watch, { dc1: ['http://a:1', 'http://b:1', 'http://c:1'] }, 'leases kept alive');
    const stored = await admin.getAll().prefix(`${prefix}/dc1/talaria/`).strings();
    assert.equal(Object.keys(stored).length, 3);
  });

  it('fails register() when etcd cannot be reached, and watches report nothing', async () => {
    const port = await freePort();
    const d = createDiscovery({
      type: 'etcd',
      datacenter: 'dc1',
      etcd: {
        endpoints: [`http://127.0.0.1:${port}`],
        prefix: '/xmidt',
        leaseTtlSeconds: 2,
        dialTimeoutMs: 300,
        requestTimeoutMs: 500,
      },
    });
    open.push(d);
    const { watch, seen } = recorder(d, 'talaria');
    await assert.rejects(d.register('talaria', 'http://a:1'), { code: 'registration_failed' });
    assert.deepEqual(plain(watch.current()), {});
    assert.equal(seen.length, 0);
  });
});
