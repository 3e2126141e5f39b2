import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { signBody } from '@xmidt/caduceus';
import { waitFor } from '@xmidt/testkit';
import { MessageType, encodeHttpHeaders, encodeMsgpack } from '@xmidt/wrp';
import { XMIDT_BIN } from './run-xmidt.js';

describe('xmidt hooks listen', () => {
  const child = spawn(
    process.execPath,
    [XMIDT_BIN, 'hooks', 'listen', '--port', '0', '--secret', 's3'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let base = '';

  before(async () => {
    base = await waitFor(
      () => /listening for webhook deliveries on (http:\/\/\S+?)\/\n/.exec(stdout)?.[1],
      {
        timeoutMs: 20_000,
        what: 'the receiver to listen',
      },
    );
  });
  after(async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  });

  const event = {
    msgType: MessageType.SimpleEvent,
    source: 'mac:112233445566',
    dest: 'event:device-status/mac:112233445566/online',
    contentType: 'application/json',
    payload: new TextEncoder().encode('{"hello":"cloud"}'),
  } as const;

  it('prints a signed msgpack delivery decoded, and answers 200', async () => {
    const body = encodeMsgpack(event);
    const r = await request(`${base}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', 'x-webpa-signature': signBody('s3', body) },
      body,
    });
    assert.equal(r.statusCode, 200);
    await r.body.dump();
    await waitFor(() => stdout.includes('"dest": "event:device-status/mac:112233445566/online"'), {
      timeoutMs: 5000,
      what: 'the event printed',
    });
    assert.match(stdout, /"payload": "\{\\"hello\\":\\"cloud\\"\}"/);
  });

  it('reads the X-Xmidt-* header form of a delivery', async () => {
    const body = Buffer.from('raw payload');
    const headers = {
      ...encodeHttpHeaders({ ...event, dest: 'event:custom/x' }),
      'x-webpa-signature': signBody('s3', body),
    };
    const r = await request(`${base}/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body,
    });
    assert.equal(r.statusCode, 200);
    await r.body.dump();
    await waitFor(() => stdout.includes('"dest": "event:custom/x"'), {
      timeoutMs: 5000,
      what: 'printed',
    });
    assert.match(stdout, /"payload": "raw payload"/);
  });

  it('refuses a delivery with a wrong or missing signature with 403', async () => {
    for (const signature of [signBody('other', Buffer.from('x')), undefined]) {
      const r = await request(`${base}/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/msgpack',
          ...(signature === undefined ? {} : { 'x-webpa-signature': signature }),
        },
        body: 'x',
      });
      assert.equal(r.statusCode, 403);
      await r.body.dump();
    }
    await waitFor(() => stderr.includes('bad X-Webpa-Signature'), {
      timeoutMs: 5000,
      what: 'reported',
    });
  });
});
