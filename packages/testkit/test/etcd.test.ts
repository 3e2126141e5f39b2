import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { freePort, startEtcd, waitFor, type TestEtcd } from '../src/index.js';

describe('startEtcd', () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd.stop();
  });

  it('serves on a loopback client URL', async () => {
    assert.match(etcd.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new Etcd3({ hosts: etcd.endpoint });
    try {
      await client.put('/testkit/a').value('1');
      assert.equal(await client.get('/testkit/a').string(), '1');
    } finally {
      client.close();
    }
  });

  it('keeps ports and data across restart() and kill()/start()', async () => {
    await etcd.restart();
    const client = new Etcd3({ hosts: etcd.endpoint });
    try {
      assert.equal(await client.get('/testkit/a').string(), '1');
      await etcd.kill();
      assert.equal(etcd.running, false);
      await etcd.start();
      assert.equal(etcd.running, true);
      const v = await waitFor(() => client.get('/testkit/a').string(), { what: 'key after start' });
      assert.equal(v, '1');
    } finally {
      client.close();
    }
  });

  it('removes the data dir on stop()', async () => {
    const other = await startEtcd();
    assert.ok(existsSync(other.dataDir));
    await other.stop();
    assert.equal(existsSync(other.dataDir), false);
    assert.equal(other.running, false);
  });
});

describe('freePort', () => {
  it('returns a bindable port', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
  });
});
