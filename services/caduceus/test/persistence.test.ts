import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMsgpack } from '@xmidt/wrp';
import { http, notify, register, startReceiver } from './helpers.js';
import { kill9, startChild, type ChildCaduceus } from './child.js';
import { waitFor } from '@xmidt/testkit';

const dir = mkdtempSync(join(tmpdir(), 'caduceus-persist-'));
const children: ChildCaduceus[] = [];
after(async () => {
  for (const c of children) await kill9(c);
  rmSync(dir, { recursive: true, force: true });
});

const config = {
  primary: { host: '127.0.0.1', port: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  store: { type: 'file', file: { path: join(dir, 'webhooks.json') } },
  webhook: { validation: { url: { allowLoopback: true, allowIP: true, allowPrivate: true } } },
  sender: { deliveryInterval: '10ms' },
};

test('registrations survive kill -9 and a restart (file store, atomic writes)', async () => {
  const rx = await startReceiver({ secrets: ['persist'] });
  try {
    const first = await startChild(dir, config);
    children.push(first);
    const pids = { 'x-xmidt-partner-ids': 'comcast' };
    for (let i = 0; i < 5; i++) {
      const r = await register(
        first.base,
        { config: { url: `${rx.url}/h${i}`, secret: 'persist' }, events: ['.*'], duration: '10m' },
        pids,
      );
      assert.equal(r.status, 200);
    }
    // replaced, deleted: the file must reflect the last state
    await register(
      first.base,
      { config: { url: `${rx.url}/h0`, secret: 'persist' }, events: ['online'], duration: '10m' },
      pids,
    );
    const del = await http(`${first.base}/api/v3/hook?url=${encodeURIComponent(`${rx.url}/h4`)}`, {
      method: 'DELETE',
    });
    assert.equal(del.status, 200);
    await kill9(first);

    const stored = JSON.parse(readFileSync(join(dir, 'webhooks.json'), 'utf8')) as {
      items: unknown[];
    };
    assert.equal(stored.items.length, 4);

    const second = await startChild(dir, config);
    children.push(second);
    const list = JSON.parse((await http(`${second.base}/api/v3/hooks`)).text) as {
      config: { url: string };
      events: string[];
    }[];
    assert.deepEqual(
      list.map((h) => h.config.url).sort(),
      [0, 1, 2, 3].map((i) => `${rx.url}/h${i}`),
    );
    assert.deepEqual(list.find((h) => h.config.url.endsWith('/h0'))?.events, ['online']);

    // and they deliver, signed with the stored secret
    const ev = encodeMsgpack({
      msgType: 4,
      source: 'mac:112233445566',
      dest: 'event:device-status/mac:112233445566/online',
      partnerIds: ['comcast'],
      payload: new Uint8Array([1]),
    });
    assert.equal((await notify(second.base, ev)).status, 202);
    await waitFor(() => rx.received.length === 4, { what: '4 deliveries' });
    assert.ok(rx.received.every((r) => r.signatureOk));
    await kill9(second);
  } finally {
    await rx.close();
  }
});
