import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  WrpError,
  decodeHttpHeaders,
  decodeJson,
  decodeMsgpack,
  encodeHttpHeaders,
  encodeJson,
  encodeMsgpack,
  validateMessage,
  type Message,
} from '../src/index.js';
import { expectedMessage, loadVectors, plain } from './vectors.js';

const vectors = loadVectors();

const isReject = (direction: string): boolean => direction.startsWith('decode must FAIL');

describe('msgpack vectors', () => {
  const msgpack = vectors.filter((v) => v.kind === 'msgpack');

  test('the file holds the 32 msgpack vectors', () => {
    assert.equal(msgpack.length, 32);
  });

  for (const v of msgpack) {
    const bytes = Buffer.from(v.msgpack_hex ?? '', 'hex');
    if (isReject(v.direction)) {
      test(`${v.name}: rejected with a WrpError`, () => {
        assert.throws(
          () => decodeMsgpack(bytes),
          (err: unknown) => err instanceof WrpError && err.code === 'wrp_malformed',
        );
      });
      continue;
    }

    test(`${v.name}: decodes to the listed fields`, () => {
      const decoded = decodeMsgpack(bytes);
      assert.deepEqual(plain(decoded), plain(expectedMessage(v.message ?? {})));
    });

    if (v.name.startsWith('wrp-go v5')) {
      test(`${v.name}: re-encodes byte for byte`, () => {
        assert.equal(encodeMsgpack(decodeMsgpack(bytes)).toString('hex'), v.msgpack_hex);
        assert.equal(
          encodeMsgpack(expectedMessage(v.message ?? {})).toString('hex'),
          v.msgpack_hex,
        );
      });
    } else {
      test(`${v.name}: round-trips through the encoder`, () => {
        const decoded = decodeMsgpack(bytes);
        const again = decodeMsgpack(encodeMsgpack(decoded));
        // the encoder always writes qos; the C layouts omit it when 0
        assert.deepEqual(plain(again), plain({ ...decoded, qos: decoded.qos ?? 0 }));
      });
    }

    const verdict = v.wrp_go_v5_would ?? '';
    if (verdict.startsWith('accept') || verdict.includes('reject in StandardValidator')) {
      test(`${v.name}: validation agrees with wrp-go v5 (${verdict.split(' (')[0]})`, () => {
        const decoded = decodeMsgpack(bytes);
        if (verdict.startsWith('accept')) validateMessage(decoded);
        else assert.throws(() => validateMessage(decoded), WrpError);
      });
    }
  }
});

describe('JSON vectors', () => {
  const json = vectors.filter((v) => v.kind === 'json');

  test('the file holds the 4 JSON examples', () => {
    assert.equal(json.length, 4);
  });

  for (const v of json) {
    test(`${v.name}: decodes`, () => {
      const decoded = decodeJson(v.json ?? '');
      if (v.message !== null) {
        assert.deepEqual(plain(decoded), plain(expectedMessage(v.message)));
      } else {
        // documentation only: shows empty strings and obsolete keys, which decode to nothing
        const wire = JSON.parse(v.json ?? '{}') as Record<string, unknown>;
        assert.equal(decoded.msgType, wire['msg_type']);
        assert.equal(decoded.dest, wire['dest']);
        assert.equal(decoded.contentType, undefined);
        assert.equal(decoded.payload, undefined);
        assert.deepEqual(decoded.partnerIds, wire['partner_ids']);
        assert.deepEqual(decoded.metadata, wire['metadata']);
      }
    });
  }

  test('wrp-go v5 JSON example: encodes to the same text plus a newline', () => {
    const v = json.find((x) => x.name === 'wrp-go v5 JSON decode example');
    assert.ok(v?.json);
    assert.equal(encodeJson(decodeJson(v.json)), `${v.json}\n`);
  });

  test('wrp-go v3 JSON example: same content, qos 0 omitted as v5 does', () => {
    const v = json.find((x) => x.name === 'wrp-go v3 JSON encode example');
    assert.ok(v?.json && v.message);
    const ours = JSON.parse(encodeJson(expectedMessage(v.message))) as Record<string, unknown>;
    const { qos, ...rest } = JSON.parse(v.json) as Record<string, unknown>;
    assert.equal(qos, 0);
    assert.deepEqual(ours, rest);
  });
});

describe('HTTP header vectors', () => {
  const http = vectors.filter((v) => v.kind === 'http-headers');

  test('the file holds the 3 header examples', () => {
    assert.equal(http.length, 3);
  });

  test('wrp-go v3 AddMessageHeaders: the same headers and values', () => {
    const v = http.find((x) => x.direction.startsWith('encode'));
    assert.ok(v?.message && v.http);
    const ours = encodeHttpHeaders(expectedMessage(v.message));
    const asList = (x: string | string[] | undefined): string[] =>
      x === undefined ? [] : Array.isArray(x) ? x : [x];
    for (const [name, values] of Object.entries(v.http)) {
      // spans are not part of the model (removed in wrp-go v5)
      if (name === 'X-Xmidt-Include-Spans' || name === 'X-Xmidt-Span') continue;
      const got = asList(ours[name]);
      if (name === 'X-Xmidt-Metadata') assert.deepEqual([...got].sort(), [...values].sort());
      else assert.deepEqual(got, values, name);
    }
    // no payload: no Content-Type
    assert.equal(ours['Content-Type'], undefined);
  });

  for (const v of http.filter((x) => x.direction === 'decode')) {
    test(`${v.name}: decodes to the listed fields`, () => {
      const decoded = decodeHttpHeaders(v.http ?? {}, Buffer.from(v.body ?? '', 'utf8'));
      const expected: Message = expectedMessage(v.message ?? {});
      // an empty body gives no payload (v3); the newer dialect's empty payload is the same thing
      if (expected.payload?.length === 0) delete expected.payload;
      assert.deepEqual(plain(decoded), plain(expected));
    });
  }

  test('wrp-go v3 partner id parsing from the same test', () => {
    const m = decodeHttpHeaders(
      {
        'X-Xmidt-Message-Type': ['SimpleEvent'],
        'X-Xmidt-Partner-Id': ['partner-1 , partner-2,partner-3', ' p4 '],
      },
      new Uint8Array(0),
    );
    assert.deepEqual(m.partnerIds, ['partner-1', 'partner-2', 'partner-3', 'p4']);
  });
});
