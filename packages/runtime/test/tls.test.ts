import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ConfigError, ServiceRuntime, createLogger, type TlsConfig } from '@xmidt/runtime';
import { generateCerts, type TestCerts } from './helpers/certs.js';
import { get } from './helpers/http.js';

let certs: TestCerts;
before(() => {
  certs = generateCerts();
});
after(() => certs.cleanup());

function runtime(tls: TlsConfig, adminTls?: TlsConfig): ServiceRuntime {
  const rt = new ServiceRuntime({
    service: 'talaria',
    primary: { host: '127.0.0.1', port: 0, tls },
    admin: adminTls
      ? { host: '127.0.0.1', port: 0, tls: adminTls }
      : { host: '127.0.0.1', port: 0 },
    logger: createLogger({ service: 'talaria', level: 'silent' }),
    shutdownTimeoutMs: 2000,
  });
  rt.primary.get('/hello', async (req) => {
    const socket = req.raw.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    return { hello: 'world', peer: peer.subject?.CN ?? null };
  });
  return rt;
}

describe('TLS listeners', () => {
  it('serves HTTPS with the configured certificate', async () => {
    const server = { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile };
    const rt = runtime(server, server);
    const { primaryPort, adminPort } = await rt.start();
    try {
      const ca = certs.read(certs.caFile);
      const res = await get(primaryPort, '/hello', { ca });
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { hello: 'world', peer: null });
      assert.equal((await get(adminPort, '/health', { ca })).status, 200);
      // a client that does not trust the CA refuses the server
      await assert.rejects(
        get(primaryPort, '/hello', {}),
        /self-signed|unable to verify|certificate/i,
      );
    } finally {
      await rt.stop();
    }
  });

  it('requires a client certificate from the configured CA under mutual TLS', async () => {
    const rt = runtime({
      certFile: certs.serverCertFile,
      keyFile: certs.serverKeyFile,
      caFile: certs.caFile,
      requireClientCert: true,
    });
    const { primaryPort } = await rt.start();
    try {
      const ca = certs.read(certs.caFile);
      const ok = await get(primaryPort, '/hello', {
        ca,
        cert: certs.read(certs.clientCertFile),
        key: certs.read(certs.clientKeyFile),
      });
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.body), { hello: 'world', peer: 'client' });

      // TLS 1.3: the server's alert arrives after the client's handshake; a reset is also fine
      const refused = (err: NodeJS.ErrnoException) =>
        /CERTIFICATE_REQUIRED|UNKNOWN_CA|BAD_CERTIFICATE|ECONNRESET/.test(err.code ?? '');
      await assert.rejects(get(primaryPort, '/hello', { ca }), refused);
      await assert.rejects(
        get(primaryPort, '/hello', {
          ca,
          cert: certs.read(certs.strangerCertFile),
          key: certs.read(certs.strangerKeyFile),
        }),
        refused,
      );
    } finally {
      await rt.stop();
    }
  });

  it('rejects unusable TLS settings with a ConfigError naming the key', () => {
    assert.throws(
      () => runtime({ certFile: '/nonexistent/cert.pem', keyFile: certs.serverKeyFile }),
      (err: unknown) =>
        err instanceof ConfigError && /primary\.tls\.certFile: cannot read/.test(err.message),
    );
    assert.throws(
      () =>
        runtime({
          certFile: certs.serverCertFile,
          keyFile: certs.serverKeyFile,
          requireClientCert: true,
        }),
      /primary\.tls\.caFile: required when requireClientCert/,
    );
  });
});
