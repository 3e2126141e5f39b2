import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageType, WrpError, validateMessage, type Message } from '../src/index.js';

const invalid = (msg: Message, message: string): void => {
  assert.throws(
    () => validateMessage(msg),
    (err: unknown) =>
      err instanceof WrpError && err.code === 'wrp_invalid' && err.message === message,
    message,
  );
};

const src = 'dns:scytale.example.com';
const dst = 'mac:112233445566/config';

describe('validateMessage', () => {
  test('accepts well-formed messages of every type', () => {
    validateMessage({ msgType: MessageType.Authorization, status: 200 });
    validateMessage({
      msgType: 3,
      source: src,
      dest: dst,
      transactionUuid: 't',
      status: 200,
      qos: 99,
    });
    validateMessage({ msgType: 4, source: src, dest: 'event:device-status/mac:1/online', qos: 0 });
    for (const t of [5, 6, 7, 8]) {
      validateMessage({ msgType: t, source: src, dest: dst, transactionUuid: 't', path: '/p' });
    }
    validateMessage({ msgType: 9, serviceName: 'config', url: 'tcp://127.0.0.1:6668' });
    validateMessage({ msgType: 10 });
    validateMessage({ msgType: 11 });
    // empty lists and maps count as absent; qos 0 counts as absent
    validateMessage({
      msgType: 10,
      headers: [],
      metadata: {},
      partnerIds: [],
      payload: new Uint8Array(0),
      qos: 0,
    });
  });

  test('unknown types', () => {
    for (const t of [0, 1, 12, 200, -1, 3.5]) {
      assert.throws(
        () => validateMessage({ msgType: t }),
        (e: unknown) => e instanceof WrpError && e.message === 'invalid message type',
      );
    }
  });

  test('required fields, with the Go field names', () => {
    invalid({ msgType: 2 }, 'message is invalid\nStatus is required');
    invalid(
      { msgType: 3, dest: dst, transactionUuid: 't' },
      'message is invalid\nSource is required',
    );
    invalid(
      { msgType: 3, source: src, transactionUuid: 't' },
      'message is invalid\nDestination is required',
    );
    invalid(
      { msgType: 3, source: src, dest: dst },
      'message is invalid\nTransactionUUID is required',
    );
    invalid({ msgType: 9, url: 'u' }, 'message is invalid\nServiceName is required');
    invalid({ msgType: 9, serviceName: 'n' }, 'message is invalid\nURL is required');
    invalid({ msgType: 4, source: '', dest: dst }, 'message is invalid\nSource is required');
  });

  test('unwanted fields', () => {
    const event: Message = { msgType: 4, source: src, dest: dst };
    const unsupported = 'message is invalid\nunsupported fields set';
    invalid({ ...event, accept: 'x' }, unsupported);
    invalid({ ...event, status: 200 }, unsupported);
    invalid({ ...event, path: '/p' }, unsupported);
    invalid({ ...event, url: 'u' }, unsupported);
    invalid({ msgType: 3, source: src, dest: dst, transactionUuid: 't', path: '/p' }, unsupported);
    invalid({ msgType: 9, serviceName: 'n', url: 'u', source: src }, unsupported);
    invalid({ msgType: 2, status: 200, payload: Buffer.from('x') }, unsupported);
    invalid({ msgType: 10, qos: 1 }, unsupported);
    invalid({ msgType: 11, metadata: { a: 'b' } }, unsupported);
  });

  test('locators, UTF-8, service name and qos', () => {
    invalid(
      { msgType: 4, source: 'source-address', dest: dst },
      'message is invalid\ninvalid locator\ninvalid device name: unknown or missing scheme',
    );
    invalid({ msgType: 4, source: src, dest: 'self:x' }, 'message is invalid\ninvalid locator');
    invalid(
      { msgType: 4, source: src, dest: dst, contentType: 'a\ud800' },
      'message is invalid\nfield contains non-utf-8 characters\ninvalid ContentType',
    );
    invalid(
      { msgType: 4, source: src, dest: dst, headers: ['ok', '\udc00'] },
      'message is invalid\nfield contains non-utf-8 characters\ninvalid Headers',
    );
    invalid(
      { msgType: 4, source: src, dest: dst, metadata: { '\ud800': 'x' } },
      'message is invalid\nfield contains non-utf-8 characters\ninvalid Metadata',
    );
    validateMessage({ msgType: 4, source: src, dest: dst, metadata: { k: '😀' } });
    invalid(
      { msgType: 9, serviceName: 'a/b', url: 'u' },
      "message is invalid\nservice_name cannot contain '/'",
    );
    invalid(
      { msgType: 4, source: src, dest: dst, qos: 100 },
      'message is invalid\ninvalid QualityOfService',
    );
    invalid(
      { msgType: 4, source: src, dest: dst, qos: -1 },
      'message is invalid\ninvalid QualityOfService',
    );
  });

  test('the first failing check wins, in the original order', () => {
    invalid({ msgType: 4, dest: dst, accept: 'x' }, 'message is invalid\nSource is required');
    invalid(
      { msgType: 4, source: src, dest: dst, accept: 'x', qos: 500 },
      'message is invalid\nunsupported fields set',
    );
  });
});
