import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { ServiceRuntime, XmidtError, createLogger } from '@xmidt/runtime';
import { get } from './helpers/http.js';

const loopback = { host: '127.0.0.1', port: 0 };

function runtime(service = 'talaria', extra: { bodyLimit?: number } = {}): ServiceRuntime {
  return new ServiceRuntime({
    service,
    primary: loopback,
    admin: loopback,
    logger: createLogger({ service, level: 'silent' }),
    shutdownTimeoutMs: 5000,
    ...extra,
  });
}

describe('ServiceRuntime', () => {
  it('serves /health, /ready and /metrics on the admin listener', async () => {
    const rt = runtime();
    const { primaryPort, adminPort } = await rt.start();
    try {
      assert.ok(primaryPort > 0 && adminPort > 0 && primaryPort !== adminPort);
      const health = await get(adminPort, '/health');
      assert.equal(health.status, 200);
      assert.match(String(health.headers['content-type']), /^application\/json/);
      assert.equal((JSON.parse(health.body) as { status: string }).status, 'up');

      assert.equal((await get(adminPort, '/ready')).status, 200);

      const metrics = await get(adminPort, '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(String(metrics.headers['content-type']), /^text\/plain/);
      assert.match(metrics.body, /^# TYPE process_cpu_user_seconds_total counter$/m);
      assert.match(metrics.body, /^process_resident_memory_bytes \d+/m);
      assert.match(metrics.body, /^nodejs_eventloop_lag_seconds /m);

      // admin routes are not on the primary listener
      assert.equal((await get(primaryPort, '/health')).status, 404);
    } finally {
      await rt.stop();
    }
  });

  it('answers /ready with 503 until setReady(true), and 503 again after setReady(false)', async () => {
    const rt = runtime();
    rt.setReady(false);
    const { adminPort } = await rt.start();
    try {
      const notReady = await get(adminPort, '/ready');
      assert.equal(notReady.status, 503);
      assert.equal((JSON.parse(notReady.body) as { status: string }).status, 'not ready');
      rt.setReady(true);
      assert.equal((await get(adminPort, '/ready')).status, 200);
      rt.setReady(false);
      assert.equal((await get(adminPort, '/ready')).status, 503);
      assert.equal((await get(adminPort, '/health')).status, 200);
    } finally {
      await rt.stop();
    }
    assert.equal(rt.ready, false);
  });

  it('serves routes on the primary listener with its body limit', async () => {
    const rt = runtime('scytale', { bodyLimit: 64 });
    rt.primary.post('/api/v3/device', async (req) => ({ got: (req.body as string).length }));
    rt.primary.addContentTypeParser('application/msgpack', { parseAs: 'buffer' }, (_r, b, done) =>
      done(null, b.toString('latin1')),
    );
    const { primaryPort } = await rt.start();
    try {
      const post = (size: number) =>
        fetch(`http://127.0.0.1:${primaryPort}/api/v3/device`, {
          method: 'POST',
          headers: { 'content-type': 'application/msgpack' },
          body: Buffer.alloc(size, 1),
        });
      const ok = await post(64);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { got: 64 });
      assert.equal((await post(65)).status, 413);
    } finally {
      await rt.stop();
    }
  });

  it('exposes the node server before start so upgrade handlers can be attached', async () => {
    const rt = runtime();
    rt.primary.server.on('upgrade', (_req, socket) => {
      socket.end(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n',
      );
    });
    const { primaryPort } = await rt.start();
    try {
      const head = await new Promise<string>((resolve, reject) => {
        const s = connect(primaryPort, '127.0.0.1', () => {
          s.write(
            'GET /api/v2/device HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n',
          );
        });
        let data = '';
        s.on('data', (d: Buffer) => (data += d.toString('latin1')));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      assert.match(head, /^HTTP\/1\.1 101 /);
    } finally {
      await rt.stop();
    }
  });

  it('keeps a separate registry per runtime so services can share a process', async () => {
    const a = runtime('talaria');
    const b = runtime('petasos');
    const { Counter } = await import('prom-client');
    new Counter({ name: 'xmidt_talaria_only_total', help: 'a', registers: [a.registry] }).inc();
    const [pa, pb] = await Promise.all([a.start(), b.start()]);
    try {
      const ma = await get(pa.adminPort, '/metrics');
      const mb = await get(pb.adminPort, '/metrics');
      assert.match(ma.body, /^xmidt_talaria_only_total 1$/m);
      assert.doesNotMatch(mb.body, /xmidt_talaria_only_total/);
      assert.match(mb.body, /process_cpu_user_seconds_total/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('runs shutdown hooks once, newest first, and stop() is idempotent', async () => {
    const rt = runtime();
    const order: string[] = [];
    rt.onShutdown(() => {
      order.push('first');
    });
    rt.onShutdown(async () => {
      await new Promise((r) => setTimeout(r, 10));
      order.push('second');
    });
    rt.onShutdown(() => {
      throw new Error('a failing hook does not stop the others');
    });
    await rt.start();
    assert.equal(rt.state, 'running');
    await Promise.all([rt.stop(), rt.stop()]);
    await rt.stop();
    assert.deepEqual(order, ['second', 'first']);
    assert.equal(rt.state, 'stopped');
    await assert.rejects(rt.start(), XmidtError);
  });

  it('can be stopped without having been started', async () => {
    const rt = runtime();
    rt.onShutdown(() => undefined);
    assert.equal(await rt.shutdown(), true);
    assert.equal(rt.state, 'stopped');
  });

  it('fails start() when the port is taken, leaving nothing listening', async () => {
    const first = runtime();
    const { adminPort } = await first.start();
    const second = new ServiceRuntime({
      service: 'talaria',
      primary: loopback,
      admin: { host: '127.0.0.1', port: adminPort },
      logger: createLogger({ service: 'talaria', level: 'silent' }),
    });
    try {
      await assert.rejects(second.start(), { code: 'EADDRINUSE' });
      assert.equal(second.state, 'stopped');
      assert.equal(second.primary.server.listening, false);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
