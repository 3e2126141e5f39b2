import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  WrpError,
  decodeHttpHeaders,
  decodeJson,
  decodeMsgpack,
  encodeHttpHeaders,
  encodeJson,
  encodeMsgpack,
  type Message,
} from '../src/index.js';
import { anyMessage, headerMessage } from './arbitraries.js';
import { plain } from './vectors.js';

const onlyWrpErrors = (fn: () => unknown): void => {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof WrpError)) throw err;
  }
};

test('msgpack: every message round-trips', () => {
  fc.assert(
    fc.property(anyMessage, (m) => {
      const back = decodeMsgpack(encodeMsgpack(m), { maxStringLength: 1 << 20 });
      assert.deepEqual(plain(back), plain({ ...m, qos: m.qos ?? 0 }));
    }),
    { numRuns: 1000 },
  );
});

test('msgpack: encoding is deterministic and a fixed point of decode', () => {
  fc.assert(
    fc.property(anyMessage, (m) => {
      const once = Buffer.from(encodeMsgpack(m));
      assert.deepEqual(Buffer.from(encodeMsgpack(decodeMsgpack(once))), once);
    }),
    { numRuns: 300 },
  );
});

test('JSON: every message round-trips (empty lists and qos 0 are omitted, as in v5)', () => {
  fc.assert(
    fc.property(anyMessage, (m) => {
      const expected: Message = { ...m };
      for (const k of ['headers', 'partnerIds', 'payload'] as const) {
        if (expected[k]?.length === 0) delete expected[k];
      }
      if (expected.metadata && Object.keys(expected.metadata).length === 0)
        delete expected.metadata;
      if (expected.qos === 0) delete expected.qos;
      const back = decodeJson(encodeJson(m));
      assert.deepEqual(plain(back), plain(expected));
    }),
    { numRuns: 500 },
  );
});

test('HTTP headers: every carried field round-trips', () => {
  fc.assert(
    fc.property(headerMessage, (m) => {
      const expected: Message = { ...m };
      for (const k of ['headers', 'partnerIds'] as const) {
        if (expected[k]?.length === 0) delete expected[k];
      }
      if (expected.metadata && Object.keys(expected.metadata).length === 0)
        delete expected.metadata;
      const body = m.payload ?? new Uint8Array(0);
      if (body.length === 0) {
        delete expected.payload;
        delete expected.contentType;
      } else {
        expected.contentType ??= 'application/octet-stream';
      }
      const back = decodeHttpHeaders(encodeHttpHeaders(m), body);
      assert.deepEqual(plain(back), plain(expected));
    }),
    { numRuns: 500 },
  );
});

test('msgpack: random bytes only ever raise WrpError; what decodes is stable', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      let m: Message | undefined;
      onlyWrpErrors(() => {
        m = decodeMsgpack(bytes);
      });
      if (m !== undefined) {
        const again = decodeMsgpack(encodeMsgpack(m));
        assert.deepEqual(plain(again), plain({ ...m, qos: m.qos ?? 0 }));
      }
    }),
    { numRuns: 2000 },
  );
});

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
);

function mutate(
  bytes: Uint8Array,
  ms: readonly { kind: string; at: number; value: number }[],
): Uint8Array {
  let b = Array.from(bytes);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'cut') b = b.slice(0, at);
    else b.splice(at, 0, m.value);
  }
  return Uint8Array.from(b);
}

test('msgpack: mutated messages only ever raise WrpError', () => {
  fc.assert(
    fc.property(anyMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, ms) => {
      onlyWrpErrors(() => decodeMsgpack(mutate(encodeMsgpack(m), ms)));
      onlyWrpErrors(() =>
        decodeMsgpack(mutate(encodeMsgpack(m), ms), { maxEntries: 3, maxDepth: 2 }),
      );
    }),
    { numRuns: 2000 },
  );
});

test('JSON and HTTP: arbitrary and mutated input only ever raise WrpError', () => {
  fc.assert(
    fc.property(
      anyMessage,
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      fc.json(),
      (m, ms, j) => {
        onlyWrpErrors(() => decodeJson(j));
        onlyWrpErrors(() => decodeJson(mutate(Buffer.from(encodeJson(m)), ms)));
      },
    ),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.oneof(
          fc.constantFrom(
            'X-Xmidt-Message-Type',
            'X-Xmidt-Status',
            'X-Xmidt-Metadata',
            'xmidt-partner-id',
            'content-type',
          ),
          fc.string(),
        ),
        fc.oneof(fc.string(), fc.array(fc.string({ unit: 'binary' }))),
      ),
      fc.uint8Array({ maxLength: 20 }),
      (headers, body) => {
        onlyWrpErrors(() => decodeHttpHeaders(headers, body));
      },
    ),
    { numRuns: 1000 },
  );
});
