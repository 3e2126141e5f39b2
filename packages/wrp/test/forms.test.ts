import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  WrpError,
  decodeHttpHeaders,
  decodeJson,
  encodeHttpHeaders,
  encodeJson,
  hasWrpHeaders,
  type Message,
} from '../src/index.js';

const fail = (code: string) => (err: unknown) => err instanceof WrpError && err.code === code;

describe('JSON form', () => {
  test('wrp-go v5 order, omissions, sorted metadata, base64 payload, newline', () => {
    const m: Message = {
      msgType: 3,
      qos: 0,
      metadata: { z: '1', a: '2' },
      payload: Buffer.from('hi'),
      transactionUuid: 't',
      source: 'dns:a',
      dest: 'mac:112233445566',
      status: 0,
      headers: [],
      contentType: '',
    };
    assert.equal(
      encodeJson(m),
      '{"msg_type":3,"source":"dns:a","dest":"mac:112233445566","transaction_uuid":"t","status":0,' +
        '"metadata":{"a":"2","z":"1"},"payload":"aGk="}\n',
    );
    assert.match(encodeJson({ msgType: 4, qos: 30 }), /"qos":30\}\n$/);
  });

  test('escapes HTML characters as Go does', () => {
    assert.equal(
      encodeJson({ msgType: 4, source: '<a>&\u2028"' }),
      '{"msg_type":4,"source":"\\u003ca\\u003e\\u0026\\u2028\\""}\n',
    );
  });

  test('decodes case-insensitive keys, nulls, v3 extras; ignores unknown keys', () => {
    const m = decodeJson(
      '{"MSG_TYPE":4,"Source":"dns:a","dest":null,"spans":[],"include_spans":true,"x":{"y":[1]},"qos":0,"payload":null}',
    );
    assert.deepEqual(m, { msgType: 4, source: 'dns:a', qos: 0 });
    assert.deepEqual(decodeJson(Buffer.from('{"msg_type":2,"status":200}')), {
      msgType: 2,
      status: 200,
    });
    assert.ok(Object.is(decodeJson('{"msg_type":2,"status":-0}').status, 0));
  });

  test('rejects what Go rejects, with WrpError only', () => {
    const cases = [
      '',
      'null',
      '[]',
      '"x"',
      '{',
      '{}',
      '{"msg_type":"4"}',
      '{"msg_type":4.5}',
      '{"msg_type":4,"source":1}',
      '{"msg_type":4,"headers":"x"}',
      '{"msg_type":4,"headers":[1]}',
      '{"msg_type":4,"metadata":[]}',
      '{"msg_type":4,"metadata":{"a":1}}',
      '{"msg_type":4,"payload":"not base64!"}',
      '{"msg_type":4,"payload":"aGk"}',
      '{"msg_type":4,"status":1e300}',
    ];
    for (const c of cases) assert.throws(() => decodeJson(c), fail('wrp_malformed'), c);
    assert.throws(() => decodeJson(Buffer.from([0x7b, 0xff, 0x7d])), fail('wrp_malformed'));
  });

  test('limits', () => {
    const text = encodeJson({
      msgType: 4,
      source: 'dns:' + 'a'.repeat(100),
      headers: ['a', 'b'],
      metadata: { a: '1', b: '2' },
    });
    assert.throws(() => decodeJson(text, { maxBytes: 20 }), fail('wrp_too_large'));
    assert.throws(() => decodeJson(text, { maxStringLength: 50 }), fail('wrp_too_large'));
    assert.throws(() => decodeJson(text, { maxEntries: 1 }), fail('wrp_too_large'));
    assert.throws(() => decodeJson(text, { maxMetadataEntries: 1 }), fail('wrp_too_large'));
    const deep = `{"msg_type":4,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    assert.throws(() => decodeJson(deep, { maxBytes: 1e6 }), fail('wrp_too_large'));
    assert.deepEqual(decodeJson('{"msg_type":4,"x":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[["}'), {
      msgType: 4,
    });
  });
});

describe('HTTP header form', () => {
  test('writes the v3 dialect', () => {
    const h = encodeHttpHeaders({
      msgType: 3,
      source: 'dns:a',
      dest: 'mac:112233445566/config',
      transactionUuid: 't',
      status: 200,
      rdr: 0,
      accept: 'application/json',
      path: '/p',
      metadata: { '/b': '2', '/a': '1' },
      partnerIds: ['p1', 'p2'],
      sessionId: 's',
      headers: ['h1'],
      serviceName: 'svc',
      url: 'u',
      contentType: 'application/json',
      payload: Buffer.from('{}'),
      qos: 50,
    });
    assert.deepEqual(h, {
      'X-Xmidt-Message-Type': 'SimpleRequestResponse',
      'X-Xmidt-Source': 'dns:a',
      'X-Webpa-Device-Name': 'mac:112233445566/config',
      'X-Xmidt-Transaction-Uuid': 't',
      'X-Xmidt-Status': '200',
      'X-Xmidt-Request-Delivery-Response': '0',
      'X-Xmidt-Accept': 'application/json',
      'X-Xmidt-Path': '/p',
      'X-Xmidt-Metadata': ['/a=1', '/b=2'],
      'X-Xmidt-Partner-Id': ['p1', 'p2'],
      'X-Xmidt-Session-Id': 's',
      'X-Xmidt-Headers': ['h1'],
      'X-Xmidt-Service-Name': 'svc',
      'X-Xmidt-Url': 'u',
      'Content-Type': 'application/json',
    });
    assert.equal(
      encodeHttpHeaders({ msgType: 4, payload: Buffer.from('x') })['Content-Type'],
      'application/octet-stream',
    );
    // Authorization has no name in the original's table
    assert.equal(encodeHttpHeaders({ msgType: 2, status: 1 })['X-Xmidt-Message-Type'], '');
  });

  test('values are UTF-8 byte strings; control characters are refused', () => {
    const h = encodeHttpHeaders({ msgType: 4, source: 'dns:é' });
    assert.equal(h['X-Xmidt-Source'], Buffer.from('dns:é').toString('latin1'));
    assert.equal(decodeHttpHeaders(h, new Uint8Array(0)).source, 'dns:é');
    assert.throws(() => encodeHttpHeaders({ msgType: 4, source: 'a\r\nb' }), fail('wrp_invalid'));
  });

  test('reads the newer wrphttp dialect', () => {
    const m = decodeHttpHeaders(
      {
        'xmidt-message-type': 'SimpleEventMessageType',
        'xmidt-source': 'mac:112233445566',
        'x-xmidt-destination': 'event:x',
        'xmidt-metadata': ['/a: 1', '/b:x=y'],
        'xmidt-partner-id': 'p1,p2',
        'xmidt-content-type': 'text/plain',
        'content-type': 'application/octet-stream; style=xmidt',
        'xmidt-status': '7',
      },
      Buffer.from('body'),
    );
    assert.deepEqual(
      { ...m, payload: Buffer.from(m.payload ?? []).toString() },
      {
        msgType: 4,
        source: 'mac:112233445566',
        dest: 'event:x',
        contentType: 'text/plain',
        status: 7,
        metadata: { '/a': '1', '/b': 'x=y' },
        payload: 'body',
        partnerIds: ['p1', 'p2'],
      },
    );
  });

  test('reads deprecated v3 spellings and Node-joined repeated headers', () => {
    const m = decodeHttpHeaders(
      {
        'x-midt-msg-type': '3',
        'x-midt-transaction-uuid': 't',
        'x-xmidt-headers': 'a, b',
        'x-xmidt-metadata': '/x=1, /y=2=3',
        'content-type': 'application/json',
      },
      Buffer.from('{}'),
    );
    assert.equal(m.msgType, 3);
    assert.equal(m.transactionUuid, 't');
    assert.deepEqual(m.headers, ['a', 'b']);
    assert.deepEqual(m.metadata, { '/x': '1', '/y': '23' });
    assert.equal(m.contentType, 'application/json');
    assert.equal(hasWrpHeaders({ 'X-Midt-Msg-Type': '3' }), true);
    assert.equal(hasWrpHeaders({ 'content-type': 'application/msgpack' }), false);
  });

  test('errors', () => {
    const body = new Uint8Array(0);
    assert.throws(() => decodeHttpHeaders({}, body), fail('wrp_malformed'));
    assert.throws(
      () => decodeHttpHeaders({ 'X-Xmidt-Message-Type': 'Authorization' }, body),
      fail('wrp_malformed'),
    );
    assert.throws(
      () => decodeHttpHeaders({ 'X-Xmidt-Message-Type': 'event', 'X-Xmidt-Status': '2x' }, body),
      fail('wrp_malformed'),
    );
    assert.throws(
      () =>
        decodeHttpHeaders({ 'X-Xmidt-Message-Type': 'event' }, new Uint8Array(10), { maxBytes: 5 }),
      fail('wrp_too_large'),
    );
    assert.throws(
      () =>
        decodeHttpHeaders(
          { 'X-Xmidt-Message-Type': 'event', 'X-Xmidt-Partner-Id': 'a,b,c' },
          body,
          { maxEntries: 2 },
        ),
      fail('wrp_too_large'),
    );
  });
});
