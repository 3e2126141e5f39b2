import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTcpUrl, parseTcpUrl } from '../src/index.js';

test('parses tcp URLs', () => {
  assert.deepEqual(parseTcpUrl('tcp://127.0.0.1:6666'), { host: '127.0.0.1', port: 6666 });
  assert.deepEqual(parseTcpUrl('tcp://localhost:1'), { host: 'localhost', port: 1 });
  assert.deepEqual(parseTcpUrl('tcp://[::1]:6667'), { host: '::1', port: 6667 });
  assert.deepEqual(parseTcpUrl('tcp://*:0', true), { host: '0.0.0.0', port: 0 });
  assert.equal(formatTcpUrl('::1', 5), 'tcp://[::1]:5');
  assert.equal(formatTcpUrl('127.0.0.1', 5), 'tcp://127.0.0.1:5');
});

test('rejects bad URLs with sp_url_invalid', () => {
  for (const bad of [
    'ipc:///tmp/x',
    'tcp://127.0.0.1',
    'tcp://127.0.0.1:70000',
    'tcp://127.0.0.1:0',
    'tcp://h:1/path',
    'http://h:1',
    'tcp://:1',
  ]) {
    assert.throws(() => parseTcpUrl(bad), { code: 'sp_url_invalid' }, bad);
  }
});
