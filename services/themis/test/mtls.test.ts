import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TrustEvaluator } from '../src/index.js';
import { issueCert, selfSigned } from '@xmidt/testkit';
import { startThemis, tempDir } from './helpers.js';

const LEVELS = {
  noCertificates: 10,
  expiredUntrusted: 100,
  expiredTrusted: 200,
  untrusted: 900,
  trusted: 1000,
};

/** Test PKI: a device CA, a server cert, a device cert from the CA, a self-signed rogue cert. */
function makePki(dir: string): void {
  selfSigned(dir, 'ca', { key: 'rsa', days: 3650, cn: 'Test Device CA' });
  selfSigned(dir, 'other-ca', { key: 'rsa', days: 3650, cn: 'Other CA' });
  issueCert(dir, 'server', 'ca', {
    key: 'rsa',
    cn: 'localhost',
    days: 30,
    ext: 'subjectAltName=IP:127.0.0.1\n',
  });
  issueCert(dir, 'device', 'ca', { key: 'rsa', cn: 'mac:112233445566', days: 1 });
  issueCert(dir, 'foreign', 'other-ca', { key: 'rsa', cn: 'mac:665544332211', days: 30 });
  // a self-signed leaf claiming the CA's name
  selfSigned(dir, 'rogue', { key: 'rsa', days: 30, cn: 'Test Device CA', ca: false });
  // the rogue leaf with the genuine CA certificate appended to its chain
  writeFileSync(
    join(dir, 'rogue-chain.pem'),
    readFileSync(join(dir, 'rogue.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'),
  );
}

function claims(
  port: number,
  dir: string,
  client?: { cert: string; key: string },
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/claims',
        ca: readFileSync(join(dir, 'ca.pem')),
        ...(client
          ? { cert: readFileSync(join(dir, client.cert)), key: readFileSync(join(dir, client.key)) }
          : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as Record<string, unknown>);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('themis trust claim from client certificates', () => {
  const tmp = tempDir('themis-mtls-');
  const dir = tmp.dir;
  let judged: Awaited<ReturnType<typeof startThemis>>;
  let verified: Awaited<ReturnType<typeof startThemis>>;
  before(async () => {
    makePki(dir);
    const tls = (mtls: Record<string, unknown>) => ({
      certFile: join(dir, 'server.pem'),
      keyFile: join(dir, 'server.key'),
      mtls,
    });
    const token = {
      key: { directory: '' },
      clientCertificates: { rootCAFile: join(dir, 'ca.pem'), trust: LEVELS },
    };
    // ask for a certificate, verify nothing at the TLS layer: Themis judges
    judged = await startThemis({
      servers: { issuer: { tls: tls({ disableRequire: true, disableVerify: true }) } },
      token,
    });
    // require and verify at the TLS layer
    verified = await startThemis({
      servers: { issuer: { tls: tls({ clientCACertificateFile: join(dir, 'ca.pem') }) } },
      token,
    });
  });
  after(async () => {
    await judged?.stop();
    await verified?.stop();
    tmp.remove();
  });

  it('no certificate -> noCertificates', async () => {
    assert.equal((await claims(judged.ports.issuerPort, dir))['trust'], 10);
  });
  it('leaf issued by the configured CA -> trusted', async () => {
    assert.equal(
      (await claims(judged.ports.issuerPort, dir, { cert: 'device.pem', key: 'device.key' }))[
        'trust'
      ],
      1000,
    );
  });
  it('self-signed leaf -> untrusted', async () => {
    assert.equal(
      (await claims(judged.ports.issuerPort, dir, { cert: 'rogue.pem', key: 'rogue.key' }))[
        'trust'
      ],
      900,
    );
  });
  it('leaf from another CA -> untrusted', async () => {
    assert.equal(
      (await claims(judged.ports.issuerPort, dir, { cert: 'foreign.pem', key: 'foreign.key' }))[
        'trust'
      ],
      900,
    );
  });
  it('an appended genuine CA certificate does not make an untrusted leaf trusted', async () => {
    const c = await claims(judged.ports.issuerPort, dir, {
      cert: 'rogue-chain.pem',
      key: 'rogue.key',
    });
    assert.equal(c['trust'], 900);
  });
  it('TLS-verified client -> trusted; unverifiable client refused at the handshake', async () => {
    assert.equal(
      (await claims(verified.ports.issuerPort, dir, { cert: 'device.pem', key: 'device.key' }))[
        'trust'
      ],
      1000,
    );
    await assert.rejects(
      claims(verified.ports.issuerPort, dir, { cert: 'rogue.pem', key: 'rogue.key' }),
    );
    await assert.rejects(claims(verified.ports.issuerPort, dir));
  });

  it('expiry and issuer-CN checks (evaluator, with real certificates)', () => {
    const cert = (name: string) => new X509Certificate(readFileSync(join(dir, name)));
    const device = cert('device.pem');
    const rogue = cert('rogue.pem');
    const ev = new TrustEvaluator({ roots: [cert('ca.pem')], levels: LEVELS });
    const later = Date.parse(device.validTo) + 86_400_000; // leaf expired, CA still valid
    assert.deepEqual(ev.evaluate(device, [], false), {
      trust: 1000,
      reason: 'trusted',
      issuerCN: 'Test Device CA',
    });
    assert.equal(ev.evaluate(device, [], false, later).reason, 'expired_trusted');
    assert.equal(ev.evaluate(device, [], false, later).trust, 200);
    assert.equal(ev.evaluate(rogue, [], false, Date.parse(rogue.validTo) + 1000).trust, 100);
    const cn = new TrustEvaluator({
      roots: [cert('ca.pem')],
      levels: LEVELS,
      untrustedIssuerCN: [/^Test Device/],
    });
    assert.deepEqual(cn.evaluate(device, [], false), {
      trust: 0,
      reason: 'untrusted_cert_issuer_cn',
    });
    // levels <= 0 fall back to the defaults
    const defaults = new TrustEvaluator({
      roots: [cert('ca.pem')],
      levels: { trusted: 0, expiredTrusted: -1 },
    });
    assert.equal(defaults.evaluate(device, [], false).trust, 1000);
    assert.equal(defaults.evaluate(device, [], false, later).trust, 500);
  });
});
