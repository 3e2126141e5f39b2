import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import {
  DiscoveryError,
  ServiceRings,
  createDiscovery,
  discoveryConfigSchema,
  normalizeInstanceUrl,
  normalizeInstances,
  type InstanceSets,
} from '../src/index.js';
import { loadRingVectors } from './vectors.js';

const vectors = loadRingVectors();

describe('normalizeInstanceUrl', () => {
  it('adds the default scheme and drops default ports', () => {
    assert.equal(normalizeInstanceUrl('talaria-1:6200'), 'http://talaria-1:6200');
    assert.equal(normalizeInstanceUrl('talaria-1:6200', 'https'), 'https://talaria-1:6200');
    assert.equal(normalizeInstanceUrl('https://talaria-1:443'), 'https://talaria-1');
    assert.equal(normalizeInstanceUrl('talaria-1:443', 'https'), 'https://talaria-1');
    assert.equal(normalizeInstanceUrl('talaria-1:80'), 'http://talaria-1');
    assert.equal(normalizeInstanceUrl('HTTP://Talaria-1:80'), 'HTTP://Talaria-1');
    assert.equal(normalizeInstanceUrl('host:0'), 'http://host');
    assert.equal(normalizeInstanceUrl('  http://h:6200 \n'), 'http://h:6200');
    assert.equal(normalizeInstanceUrl('http://h:06200'), 'http://h:6200');
  });

  it('rejects blank, IPv6, bad ports and oversized input', () => {
    for (const bad of [
      '',
      '   ',
      'http://[::1]:80',
      'h:x',
      'h:70000',
      'http://h:1:2',
      'x'.repeat(3000),
    ]) {
      assert.throws(() => normalizeInstanceUrl(bad), { code: 'instance_invalid' }, bad);
    }
    assert.throws(() => normalizeInstanceUrl(''), DiscoveryError);
  });

  it('turns the discovered forms in ring.json into its instance lists', () => {
    for (const c of vectors.ring_hostname) {
      if (!c.discovered) continue;
      assert.deepEqual(
        normalizeInstances(c.discovered, undefined, c.default_scheme),
        c.instances,
        c.id,
      );
    }
  });

  it('leaves the ring.json instance lists unchanged where they are a fixed point', () => {
    for (const c of vectors.ring_hostname) {
      if (c.monitor_filter_fixed_point)
        assert.deepEqual(normalizeInstances(c.instances), c.instances);
    }
  });

  it('drops invalid entries and reports them', () => {
    const bad: string[] = [];
    const list = normalizeInstances(['b:1', 'http://[::1]:1', 'a:1', 'b:1'], (u) => bad.push(u));
    assert.deepEqual(list, ['http://a:1', 'http://b:1']);
    assert.deepEqual(bad, ['http://[::1]:1']);
  });
});

describe('discoveryConfigSchema', () => {
  it('fills the defaults', () => {
    const cfg = Value.Default(discoveryConfigSchema, {}) as Record<string, unknown>;
    assert.equal(cfg['type'], 'static');
    assert.equal(cfg['datacenter'], 'dc1');
    const etcd = Value.Default(discoveryConfigSchema, { type: 'etcd', etcd: {} }) as {
      etcd: { prefix: string; leaseTtlSeconds: number; endpoints: string[] };
    };
    assert.equal(etcd.etcd.prefix, '/xmidt');
    assert.equal(etcd.etcd.leaseTtlSeconds, 10);
    assert.ok(Value.Check(discoveryConfigSchema, etcd));
    assert.equal(Value.Check(discoveryConfigSchema, { type: 'consul', datacenter: 'dc1' }), false);
    assert.equal(Value.Check(discoveryConfigSchema, { type: 'static', datacenter: 'a/b' }), false);
  });
});

describe('static discovery', () => {
  const config = {
    type: 'static' as const,
    datacenter: 'east',
    static: {
      services: {
        talaria: {
          east: ['talaria-1:6200', 'http://talaria-0:6200', 'http://[::1]:1'],
          west: ['https://talaria-w:443'],
        },
      },
    },
  };

  it('reports the configured sets, normalised, once and from current()', async () => {
    const d = createDiscovery(config);
    assert.equal(d.datacenter, 'east');
    const seen: InstanceSets[] = [];
    const w = d.watch('talaria', (s) => seen.push(s));
    const expected = new Map([
      ['east', ['http://talaria-0:6200', 'http://talaria-1:6200']],
      ['west', ['https://talaria-w']],
    ]);
    assert.deepEqual(w.current(), expected);
    assert.equal(seen.length, 0); // never during watch()
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [expected]);
    assert.deepEqual(d.watch('other', () => undefined).current(), new Map());
    const reg = await d.register('talaria', 'http://talaria-0:6200');
    await reg.deregister();
    await d.close();
    assert.throws(() => d.watch('talaria', () => undefined), { code: 'discovery_closed' });
  });

  it('rejects names that cannot be key segments', () => {
    const d = createDiscovery(config);
    assert.throws(() => d.watch('a/b', () => undefined), { code: 'name_invalid' });
    assert.throws(() => createDiscovery({ ...config, datacenter: '' }), { code: 'name_invalid' });
    assert.throws(() => createDiscovery({ type: 'etcd', datacenter: 'x' }), {
      code: 'config_invalid',
    });
  });

  it('ServiceRings over static discovery agrees with ring.json', async () => {
    const services: Record<string, Record<string, string[]>> = {};
    for (const c of vectors.ring_hostname) services[c.id] = { dc1: c.discovered ?? c.instances };
    for (const c of vectors.ring_hostname) {
      if (!c.monitor_filter_fixed_point || c.default_scheme === 'https') continue;
      const d = createDiscovery({ type: 'static', datacenter: 'dc1', static: { services } });
      const changes: number[] = [];
      const rings = new ServiceRings(d, c.id, { onChange: (r) => changes.push(r.size) });
      const ring = rings.ring();
      assert.ok(ring, c.id);
      for (const l of c.lookups) assert.equal(ring.get(l.key), l.owner, `${c.id} ${l.key}`);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(changes, [1]);
      assert.equal(rings.ring('dc1'), ring); // unchanged list keeps its ring
      rings.close();
      await d.close();
    }
  });
});
