import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HashRing, murmur3Sum64, parseDeviceId } from '../src/deps/index.js';

function vectorsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, '.ci'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
  return join(dir, '..', 'shared', 'vectors');
}

interface Lookup {
  key: string;
  device_name?: string;
  sum64_hex: string;
  owner: string;
}
interface RingCase {
  id: string;
  instances: string[];
  vnodes: number;
  lookups: Lookup[];
}
interface Vectors {
  hash: Array<{ input: string; sum64_hex: string }>;
  ring_hostname: RingCase[];
  ring_full_url: RingCase[];
}

const vectors = JSON.parse(readFileSync(join(vectorsDir(), 'ring.json'), 'utf8')) as Vectors;

test('murmur3 Sum64 matches the Go vectors', () => {
  for (const h of vectors.hash) {
    assert.equal(murmur3Sum64(h.input).toString(16).padStart(16, '0'), h.sum64_hex, h.input);
  }
});

for (const [mode, cases] of [
  ['hostname', vectors.ring_hostname],
  ['url', vectors.ring_full_url],
] as const) {
  test(`ring owners match the Go code (${mode} node names)`, () => {
    for (const c of cases) {
      const ring = new HashRing(c.instances, { vnodes: c.vnodes, nodeName: mode });
      for (const l of c.lookups) {
        const key = l.device_name ? parseDeviceId(l.device_name) : l.key;
        assert.equal(key, l.key, `${c.id} ${l.device_name ?? ''}`);
        assert.equal(ring.get(key), l.owner, `${c.id} ${l.key}`);
      }
    }
  });
}
