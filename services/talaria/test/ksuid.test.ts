import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ksuid, ksuidOf } from '../src/ksuid.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The definition: the 20 bytes as one big-endian number, in base62, 27 digits. */
function reference(unixSeconds: number, random: Uint8Array): string {
  const bytes = Buffer.alloc(20);
  bytes.writeUInt32BE((unixSeconds - 1_400_000_000) >>> 0, 0);
  Buffer.from(random).copy(bytes, 4);
  let n = BigInt('0x' + bytes.toString('hex'));
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(27, '0');
}

test('matches the KSUID definition for random, zero and all-ones inputs', () => {
  const cases: [number, Uint8Array][] = [
    [1_400_000_000, new Uint8Array(16)],
    [1_400_000_000 + 0xffffffff, new Uint8Array(16).fill(0xff)],
    [1_700_000_000, Uint8Array.from({ length: 16 }, (_, i) => i)],
  ];
  for (let i = 0; i < 500; i++) cases.push([1_400_000_000 + i * 7_919_993, randomBytes(16)]);
  for (const [t, r] of cases) assert.equal(ksuidOf(t, r), reference(t, r));
  assert.equal(ksuidOf(1_400_000_000, new Uint8Array(16)), '0'.repeat(27));
  assert.equal(
    ksuidOf(1_400_000_000 + 0xffffffff, new Uint8Array(16).fill(0xff)),
    'aWgEPTl1tmebfsQzFP4bxwgy80V',
  );
});

test('ids are 27 base62 characters, distinct, and ordered by their second', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = ksuid(1_700_000_000_000);
    assert.match(id, /^[0-9A-Za-z]{27}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 2000);
  assert.ok(ksuid(1_700_000_000_000) < ksuid(1_700_000_100_000));
});
