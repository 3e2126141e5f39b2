import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, SpError, encodeHeader, encodeLengthPrefix, Protocol } from '../src/index.js';
import { frame } from './helpers.js';

function drain(decoder: FrameDecoder): Buffer[] {
  const out: Buffer[] = [];
  for (let m = decoder.next(); m !== undefined; m = decoder.next()) out.push(m);
  return out;
}

test('header and length prefix bytes', () => {
  assert.deepEqual([...encodeHeader(Protocol.Push)], [0, 0x53, 0x50, 0, 0, 0x50, 0, 0]);
  assert.deepEqual([...encodeHeader(Protocol.Pull)], [0, 0x53, 0x50, 0, 0, 0x51, 0, 0]);
  assert.deepEqual([...encodeLengthPrefix(0x0102)], [0, 0, 0, 0, 0, 0, 1, 2]);
});

test('several messages in one chunk, including an empty one', () => {
  const d = new FrameDecoder(1024);
  d.push(Buffer.concat([frame('a'), frame(''), frame('hello')]));
  assert.deepEqual(
    drain(d).map((b) => b.toString()),
    ['a', '', 'hello'],
  );
  assert.equal(d.bufferedBytes, 0);
});

test('one byte at a time', () => {
  const d = new FrameDecoder(1024);
  const stream = Buffer.concat([frame('first'), frame('second')]);
  const out: string[] = [];
  for (const byte of stream) {
    d.push(Buffer.from([byte]));
    out.push(...drain(d).map((b) => b.toString()));
  }
  assert.deepEqual(out, ['first', 'second']);
});

test('length prefix over the limit throws sp_message_too_large before the body arrives', () => {
  const d = new FrameDecoder(10);
  d.push(encodeLengthPrefix(11));
  assert.throws(
    () => d.next(),
    (e: unknown) => e instanceof SpError && e.code === 'sp_message_too_large',
  );
  const huge = new FrameDecoder(10);
  huge.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  assert.throws(() => huge.next(), { code: 'sp_message_too_large' });
  const exact = new FrameDecoder(10);
  exact.push(frame(Buffer.alloc(10, 7)));
  assert.equal(exact.next()?.length, 10);
});

test('any split of a stream yields the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 20 }),
      (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))));
        const d = new FrameDecoder(64);
        const out: Buffer[] = [];
        let pos = 0;
        let i = 0;
        while (pos < stream.length) {
          const n = cuts[i++ % cuts.length] ?? 1;
          d.push(stream.subarray(pos, pos + n));
          pos += n;
          out.push(...drain(d));
        }
        assert.deepEqual(
          out.map((b) => [...b]),
          bodies.map((b) => [...b]),
        );
        assert.equal(d.bufferedBytes, 0);
      },
    ),
  );
});
