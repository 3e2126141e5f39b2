import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HashRing, HashRingError, murmur3Sum64, ringNodeName } from '../src/index.js';
import { loadRingVectors, type RingCase } from './vectors.js';

const vectors = loadRingVectors();
const hex = (v: bigint) => v.toString(16).padStart(16, '0');

describe('murmur3Sum64', () => {
  for (const { input, sum64_hex } of vectors.hash) {
    it(`Sum64(${JSON.stringify(input)}) = ${sum64_hex}`, () => {
      assert.equal(hex(murmur3Sum64(input)), sum64_hex);
      assert.equal(hex(murmur3Sum64(new TextEncoder().encode(input))), sum64_hex);
    });
  }

  it('covers every tail length (0..33 bytes) consistently for strings and bytes', () => {
    const text = 'abcdefghijklmnopqrstuvwxyz0123456';
    for (let n = 0; n <= text.length; n++) {
      const s = text.slice(0, n);
      assert.equal(murmur3Sum64(s), murmur3Sum64(Buffer.from(s)));
    }
  });
});

function checkCase(c: RingCase, mode: 'hostname' | 'url'): void {
  const ring = new HashRing(c.instances, { nodeName: mode, vnodes: c.vnodes });
  assert.deepEqual(Object.fromEntries(ring.members()), c.members);
  for (const l of c.lookups) {
    assert.equal(hex(murmur3Sum64(l.key)), l.sum64_hex, `hash of ${l.key}`);
    assert.equal(ring.get(l.key), l.owner, `owner of ${l.key} (${l.kind})`);
    assert.equal(ring.getBytes(Buffer.from(l.key)), l.owner);
  }
  // the instance order given does not matter: the ring sorts as discovery does
  const reversed = new HashRing([...c.instances].reverse(), { nodeName: mode });
  for (const l of c.lookups) assert.equal(reversed.get(l.key), l.owner);
}

describe('HashRing against ring.json (hostname rule)', () => {
  for (const c of vectors.ring_hostname) {
    it(`${c.id}: ${c.description}`, () => checkCase(c, 'hostname'));
  }
});

describe('HashRing against ring.json (full URL rule)', () => {
  for (const c of vectors.ring_full_url) {
    it(`${c.id}: ${c.description}`, () => checkCase(c, 'url'));
  }
});

describe('HashRing', () => {
  it('defaults to the hostname rule and 211 vnodes', () => {
    const c = vectors.ring_hostname.find((x) => x.id === 'L02');
    assert.ok(c);
    const ring = new HashRing(c.instances);
    assert.equal(ring.vnodes, 211);
    assert.equal(ring.nodeName, 'hostname');
    for (const l of c.lookups) assert.equal(ring.get(l.key), l.owner);
    assert.equal(new HashRing(c.instances, { vnodes: 0 }).vnodes, 211);
  });

  it('returns undefined on an empty ring', () => {
    const ring = new HashRing([]);
    assert.equal(ring.size, 0);
    assert.equal(ring.get('mac:112233445566'), undefined);
    assert.equal(ring.getBytes(Buffer.from('mac:112233445566')), undefined);
  });

  it('de-duplicates and sorts its instances', () => {
    const ring = new HashRing(['http://b:1', 'http://a:1', 'http://b:1']);
    assert.deepEqual(ring.instances, ['http://a:1', 'http://b:1']);
    assert.equal(ring.size, 2);
  });

  it('answers long and non-ASCII keys as their UTF-8 bytes', () => {
    const ring = new HashRing(['http://x:1', 'http://y:1', 'http://z:1']);
    const long = 'serial:' + 'Ü'.repeat(500);
    assert.equal(ring.get(long), ring.getBytes(Buffer.from(long)));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
        assert.equal(ring.get(s), ring.getBytes(new TextEncoder().encode(s)));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects bad options and instances without scheme or host', () => {
    assert.throws(() => new HashRing(['http://a'], { vnodes: 1.5 }), HashRingError);
    assert.throws(() => new HashRing(['talaria-0:6200']), { code: 'instance_invalid' });
    assert.throws(() => new HashRing(['http://']), { code: 'instance_invalid' });
  });
});

describe('ringNodeName', () => {
  it('strips the port and keeps case and IPv6 rules', () => {
    assert.equal(ringNodeName('http://Talaria-1.Example.com:6200'), 'Talaria-1.Example.com');
    assert.equal(ringNodeName('https://talaria-a.example.com'), 'talaria-a.example.com');
    assert.equal(ringNodeName('http://[2001:db8::1]:6200'), '2001:db8::1');
    assert.equal(ringNodeName('http://[2001:db8::3]'), '[2001:db8::3]');
    assert.equal(ringNodeName('http://user@host:1/path'), 'host');
    assert.equal(ringNodeName('http://host:1', 'url'), 'http://host:1');
  });
});
