import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { ServiceRuntime, createLogger } from '@xmidt/runtime';
import { get } from './helpers/http.js';

function runtime(shutdownTimeoutMs: number): ServiceRuntime {
  return new ServiceRuntime({
    service: 'caduceus',
    primary: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    logger: createLogger({ service: 'caduceus', level: 'silent' }),
    shutdownTimeoutMs,
  });
}

/** A promise with its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

describe('graceful shutdown', () => {
  it('lets an in-flight request finish while refusing new connections', async () => {
    const rt = runtime(30_000);
    const entered = gate();
    const release = gate();
    rt.primary.get('/slow', async () => {
      entered.open();
      await release.promise;
      return { done: true };
    });
    let refusedDuringDrain = '';
    rt.onShutdown(async () => {
      refusedDuringDrain = await tryConnect(primaryPort);
      release.open(); // the in-flight request may finish now
    });
    const { primaryPort } = await rt.start();

    const inFlight = get(primaryPort, '/slow');
    await entered.promise;
    const clean = await rt.shutdown();
    const res = await inFlight;

    assert.equal(refusedDuringDrain, 'ECONNREFUSED');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { done: true });
    assert.equal(res.headers.connection, 'close');
    assert.equal(clean, true);
    assert.equal(await tryConnect(primaryPort), 'ECONNREFUSED');
  });

  it('does not wait for idle keep-alive connections', async () => {
    const rt = runtime(30_000);
    rt.primary.get('/x', async () => 'x');
    const { primaryPort } = await rt.start();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: primaryPort, path: '/x', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(await rt.shutdown(), true); // before the 30 s deadline: nothing was forced
    agent.destroy();
  });

  it('destroys connections still busy at the deadline', async () => {
    const rt = runtime(200);
    const entered = gate();
    rt.primary.get('/hang', async () => {
      entered.open();
      await new Promise(() => undefined); // never answers
    });
    const { primaryPort } = await rt.start();
    const inFlight = get(primaryPort, '/hang');
    await entered.promise;
    assert.equal(await rt.shutdown(), false);
    await assert.rejects(inFlight, { code: 'ECONNRESET' });
    assert.equal(rt.state, 'stopped');
  });

  it('destroys upgraded connections (websockets) left open at the deadline', async () => {
    const rt = runtime(200);
    rt.primary.server.on('upgrade', (_req, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n',
      );
      // kept open: a shutdown hook of the service would normally close it
    });
    const { primaryPort } = await rt.start();
    const client = connect(primaryPort, '127.0.0.1');
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      client.once('data', () => resolve());
      client.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    });
    assert.equal(await rt.shutdown(), false);
    await closed;
  });

  it('gives up on a shutdown hook that outlives the deadline', async () => {
    const rt = runtime(100);
    const ran: string[] = [];
    rt.onShutdown(() => {
      ran.push('older');
    });
    rt.onShutdown(() => new Promise<void>(() => undefined));
    await rt.start();
    assert.equal(await rt.shutdown(), false);
    assert.deepEqual(ran, ['older']); // later hooks still run
  });
});
