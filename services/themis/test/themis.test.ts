import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { AuthError, createJwtVerifier, type JwtVerifier } from '@xmidt/auth';
import { resolveSignerMode } from '../src/index.js';
import { sleep, startThemis, tempDir } from './helpers.js';
import { rawExchange } from './raw-http.js';

async function codeOf(v: JwtVerifier, token: string): Promise<string> {
  try {
    await v.verify(token);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof AuthError, String(err));
    return err.code;
  }
}

async function issue(
  port: number,
  headers: Record<string, string> = {},
  query = '',
): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/issue${query}`, { headers });
}

describe('themis (RS256, persisted keys)', () => {
  const tmp = tempDir();
  let t: Awaited<ReturnType<typeof startThemis>>;
  let keysBase: string;
  before(async () => {
    t = await startThemis({
      token: {
        key: { directory: join(tmp.dir, 'keys'), kid: 'dev' },
        claims: [
          { key: 'mac', header: 'X-Midt-Mac-Address', parameter: 'mac' },
          { key: 'serial', header: 'X-Midt-Serial-Number', parameter: 'serial' },
          { key: 'sub', value: 'client-supplied' },
          { key: 'iss', header: 'X-Midt-Iss' }, // overridden by the static one below
          { key: 'iss', value: 'themis' },
          { key: 'capabilities', value: ['x1:issuer:test:.*:all'] },
          { key: 'allowedResources', json: '{"allowedPartners":["comcast"]}' },
          { key: 'trust', value: 5000 },
        ],
        partnerID: {
          claim: 'partner-id',
          header: 'X-Midt-Partner-ID',
          parameter: 'pid',
          default: 'comcast',
        },
      },
    });
    keysBase = `http://127.0.0.1:${t.ports.keyPort}`;
  });
  after(async () => {
    await t.stop();
    tmp.remove();
  });

  it('issues a compact JWS as application/jose with the claims in the original order of precedence', async () => {
    const res = await issue(
      t.ports.issuerPort,
      {
        'X-Midt-Mac-Address': 'mac:112233445566',
        'X-Midt-Partner-Id': '*, sky ,comcast',
        'X-Midt-Iss': 'evil',
      },
      '?serial=SER1&mac=ignored',
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/jose');
    assert.ok(res.headers.get('x-webpa-transaction-id'));
    const token = await res.text();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const header = decodeProtectedHeader(token);
    assert.deepEqual(Object.keys(header), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'JWT');
    assert.match(String(header.kid), /^dev-/);
    const c = decodeJwt(token);
    assert.equal(c['mac'], 'mac:112233445566'); // header wins over parameter
    assert.equal(c['serial'], 'SER1'); // parameter when no header
    assert.equal(c['partner-id'], 'sky'); // first piece not blank and not '*'
    assert.equal(c.iss, 'themis'); // static beats request
    assert.equal(c['trust'], 0); // computed trust overwrites a static one (no TLS: noCertificates)
    assert.deepEqual(c['allowedResources'], { allowedPartners: ['comcast'] });
    assert.equal(typeof c.jti, 'string');
    assert.equal(c.jti?.length, 22);
    assert.equal(c.exp! - c.iat!, 86400);
    assert.equal(c.nbf, c.iat! - 15);
    assert.equal(new Date(res.headers.get('expires') ?? '').getTime(), c.exp! * 1000);
    assert.deepEqual(Object.keys(c), [...Object.keys(c)].sort()); // sorted like Go maps
  });

  it('echoes X-WebPA-Transaction-Id, or makes one, on every issuer answer', async () => {
    const given = await issue(t.ports.issuerPort, { 'X-WebPA-Transaction-Id': 'tid-1' });
    assert.equal(given.headers.get('x-webpa-transaction-id'), 'tid-1');
    const made = await issue(t.ports.issuerPort);
    assert.match(made.headers.get('x-webpa-transaction-id') ?? '', /^[\w-]{16}$/);
    const bad = await issue(t.ports.issuerPort, {
      'X-Midt-Partner-Id': '*',
      'X-WebPA-Transaction-Id': 'tid-2',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-webpa-transaction-id'), 'tid-2');
    const missing = await fetch(`http://127.0.0.1:${t.ports.issuerPort}/nowhere`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('x-webpa-transaction-id') ?? '', /^[\w-]{16}$/);
  });

  it('a repeated request header: its first value is the claim', async () => {
    // two header lines (fetch would join them into one)
    const body = await new Promise<string>((resolve, reject) => {
      get(
        `http://127.0.0.1:${t.ports.issuerPort}/issue`,
        { headers: { 'X-Midt-Mac-Address': ['mac:aa', 'mac:bb'], 'X-Midt-Serial-Number': 'S,1' } },
        (res) => {
          let text = '';
          res.setEncoding('latin1');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve(text));
        },
      ).on('error', reject);
    });
    const c = decodeJwt(body);
    assert.equal(c['mac'], 'mac:aa');
    assert.equal(c['serial'], 'S,1');
  });

  it('HEAD /issue answers the headers of a token; other methods and paths are 404', async () => {
    const head = await fetch(`http://127.0.0.1:${t.ports.issuerPort}/issue`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'application/jose');
    assert.ok(Number(head.headers.get('content-length')) > 100);
    assert.ok(head.headers.get('expires'));
    assert.equal(await head.text(), '');
    for (const [method, path] of [
      ['POST', '/issue'],
      ['GET', '/issue/'],
      ['GET', '/issuer'],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${t.ports.issuerPort}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.ok(res.headers.get('x-webpa-transaction-id'));
    }
  });

  it('partner id: default when absent, 400 when no piece qualifies', async () => {
    const c = decodeJwt(await (await issue(t.ports.issuerPort)).text());
    assert.equal(c['partner-id'], 'comcast');
    const bad = await issue(t.ports.issuerPort, { 'X-Midt-Partner-Id': ' * , ' });
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'invalid partner id');
    const viaQuery = decodeJwt(await (await issue(t.ports.issuerPort, {}, '?pid=cox')).text());
    assert.equal(viaQuery['partner-id'], 'cox');
  });

  it('GET /claims answers the same claim set as JSON', async () => {
    const res = await fetch(`http://127.0.0.1:${t.ports.issuerPort}/claims?mac=mac:aabbccddeeff`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const c = (await res.json()) as Record<string, unknown>;
    assert.equal(c['mac'], 'mac:aabbccddeeff');
    assert.equal(c['sub'], 'client-supplied');
    assert.equal(typeof c['exp'], 'number');
  });

  it('verifies with @xmidt/auth via the key URL template and via JWKS', async () => {
    const token = await (
      await issue(t.ports.issuerPort, { 'X-Midt-Mac-Address': 'mac:112233445566' })
    ).text();
    const byTemplate = createJwtVerifier({ keysUrl: `${keysBase}/keys/{kid}` });
    const byJwks = createJwtVerifier({ jwksUrl: `${keysBase}/.well-known/jwks.json` });
    for (const v of [byTemplate, byJwks]) {
      const p = await v.verify(token);
      assert.equal(p.subject, 'client-supplied');
      assert.deepEqual(p.partnerIds, ['comcast']);
      assert.deepEqual(p.capabilities, ['x1:issuer:test:.*:all']);
    }
  });

  it('serves keys as the original: PEM by default, JWK by suffix or Accept, 404 text for unknown kids', async () => {
    const kid = t.themis.keys.active().kid;
    const pem = await fetch(`${keysBase}/keys/${kid}`);
    assert.equal(pem.headers.get('content-type'), 'application/x-pem-file');
    assert.match(await pem.text(), /^-----BEGIN PUBLIC KEY-----\n/);
    const pem2 = await fetch(`${keysBase}/keys/${kid}/key.pem`);
    assert.equal(pem2.headers.get('content-type'), 'application/x-pem-file');
    const json = await fetch(`${keysBase}/keys/${kid}/key.json`);
    assert.equal(json.headers.get('content-type'), 'application/json');
    const text = await json.text();
    assert.match(text, /^\{\n {2}"kty": "RSA"/);
    assert.deepEqual(
      { kid: JSON.parse(text).kid, alg: JSON.parse(text).alg, use: JSON.parse(text).use },
      { kid, alg: 'RS256', use: 'sig' },
    );
    const negotiated = await fetch(`${keysBase}/keys/${kid}`, {
      headers: { accept: 'application/json' },
    });
    assert.equal(negotiated.headers.get('content-type'), 'application/json');
    const missing = await fetch(`${keysBase}/keys/nope`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'No key exists with kid nope');
    const set = (await (await fetch(`${keysBase}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; n: string; d?: string }[];
    };
    assert.deepEqual(
      set.keys.map((k) => k.kid),
      [kid],
    );
    assert.equal(set.keys[0]?.d, undefined);
    assert.equal(Buffer.from(set.keys[0]?.n ?? '', 'base64url').length, 256); // RSA-2048
  });

  it('keeps generated keys in files of mode 0600 in a 0700 directory', () => {
    const dir = join(tmp.dir, 'keys');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = readdirSync(dir);
    assert.ok(files.length >= 1);
    for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600);
  });

  it('health and metrics on the admin listener', async () => {
    const admin = `http://127.0.0.1:${t.ports.adminPort}`;
    assert.equal((await fetch(`${admin}/health`)).status, 200);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /xmidt_themis_tokens_issued_total\{alg="RS256",outcome="success"\} \d+/);
    assert.match(metrics, /xmidt_themis_trust_total\{trust="0",reason="no_certificates"\}/);
  });
});

describe('themis key rotation and restart', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  it('tokens signed before and after a rotation verify until the old one expires', async () => {
    const t = await startThemis({
      token: {
        duration: '3s',
        notBeforeDelta: 0,
        key: { directory: join(tmp.dir, 'rot'), retainGrace: 0 },
      },
    });
    try {
      const keysBase = `http://127.0.0.1:${t.ports.keyPort}`;
      const byTemplate = createJwtVerifier({ keysUrl: `${keysBase}/keys/{kid}` });
      const byJwks = createJwtVerifier({
        jwksUrl: `${keysBase}/.well-known/jwks.json`,
        minRefreshIntervalMs: 0,
      });
      const before = await (await issue(t.ports.issuerPort)).text();
      const oldKid = decodeProtectedHeader(before).kid;
      assert.equal(await codeOf(byJwks, before), 'ok');

      const rotated = await fetch(`http://127.0.0.1:${t.ports.adminPort}/keys/rotate`, {
        method: 'POST',
      });
      assert.equal(rotated.status, 200);
      const body = (await rotated.json()) as { kid: string; published: string[] };
      assert.notEqual(body.kid, oldKid);
      assert.deepEqual(body.published, [body.kid, oldKid]);

      const afterToken = await (await issue(t.ports.issuerPort)).text();
      assert.equal(decodeProtectedHeader(afterToken).kid, body.kid);
      for (const v of [byTemplate, byJwks]) {
        assert.equal(await codeOf(v, before), 'ok');
        assert.equal(await codeOf(v, afterToken), 'ok'); // JWKS: refreshed on the unknown kid
      }
      // once the old token has expired, the old key is no longer published
      await sleep(4200);
      assert.equal(await codeOf(byTemplate, before), 'auth_expired');
      assert.equal((await fetch(`${keysBase}/keys/${oldKid}`)).status, 404);
      const set = (await (await fetch(`${keysBase}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      assert.deepEqual(
        set.keys.map((k) => k.kid),
        [body.kid],
      );
    } finally {
      await t.stop();
    }
  });

  it('keys survive a restart (active and retired)', async () => {
    const directory = join(tmp.dir, 'restart');
    const first = await startThemis({ token: { key: { directory } } });
    const older = await (await issue(first.ports.issuerPort)).text();
    await first.themis.rotate();
    const newer = await (await issue(first.ports.issuerPort)).text();
    const activeKid = first.themis.keys.active().kid;
    await first.stop();

    const second = await startThemis({ token: { key: { directory } } });
    try {
      assert.equal(second.themis.keys.active().kid, activeKid);
      const v = createJwtVerifier({
        keysUrl: `http://127.0.0.1:${second.ports.keyPort}/keys/{kid}`,
      });
      assert.equal(await codeOf(v, older), 'ok');
      assert.equal(await codeOf(v, newer), 'ok');
      const fresh = await (await issue(second.ports.issuerPort)).text();
      assert.equal(decodeProtectedHeader(fresh).kid, activeKid);
    } finally {
      await second.stop();
    }
  });

  it('a fixed key file keeps its kid and cannot be rotated', async () => {
    const file = join(tmp.dir, 'fixed.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(file, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    const t = await startThemis({ token: { key: { kid: 'development', file } } });
    try {
      const token = await (await issue(t.ports.issuerPort)).text();
      assert.equal(decodeProtectedHeader(token).kid, 'development');
      const r = await fetch(`http://127.0.0.1:${t.ports.adminPort}/keys/rotate`, {
        method: 'POST',
      });
      assert.equal(r.status, 409);
      const v = createJwtVerifier({ keysUrl: `http://127.0.0.1:${t.ports.keyPort}/keys/{kid}` });
      assert.equal(await codeOf(v, token), 'ok');
    } finally {
      await t.stop();
    }
  });
});

describe('themis algorithms', () => {
  for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
    it(`issues ${alg} tokens that verify (and not under an RS256-only policy)`, async () => {
      const t = await startThemis({ token: { alg, key: { directory: '' } } });
      try {
        const token = await (await issue(t.ports.issuerPort)).text();
        assert.equal(decodeProtectedHeader(token).alg, alg);
        const url = `http://127.0.0.1:${t.ports.keyPort}/keys/{kid}`;
        assert.equal(
          await codeOf(createJwtVerifier({ keysUrl: url, algorithms: [alg] }), token),
          'ok',
        );
        assert.equal(
          await codeOf(
            createJwtVerifier({
              jwksUrl: `http://127.0.0.1:${t.ports.keyPort}/.well-known/jwks.json`,
              algorithms: [alg],
            }),
            token,
          ),
          'ok',
        );
        assert.equal(
          await codeOf(createJwtVerifier({ keysUrl: url }), token),
          'auth_alg_not_allowed',
        );
      } finally {
        await t.stop();
      }
    });
  }
});

/** Sends `count` pipelined GET /issue requests in one write; the answers' status lines and bodies. */
describe('themis maxConcurrentRequests', () => {
  it('answers 429 with Retry-After while the limit of tokens is being signed', async () => {
    const t = await startThemis({
      servers: { issuer: { maxConcurrentRequests: 2 } },
      token: { alg: 'ES256', key: { directory: '' } },
    });
    try {
      // pipelined requests reach the issuer in one go, before any token is signed
      const { answers } = await rawExchange(
        t.ports.issuerPort,
        'GET /issue HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4),
        4,
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        [
          'HTTP/1.1 200 OK',
          'HTTP/1.1 200 OK',
          'HTTP/1.1 429 Too Many Requests',
          'HTTP/1.1 429 Too Many Requests',
        ],
      );
      assert.match(answers[2]?.head ?? '', /\r\nretry-after: 1\r\n/i);
      assert.match(answers[2]?.head ?? '', /\r\nx-webpa-transaction-id: [\w-]+\r\n/i);
      assert.equal(answers[2]?.body, 'too many requests');
      // the limit counts tokens in flight, not answered ones
      assert.equal((await issue(t.ports.issuerPort)).status, 200);
    } finally {
      await t.stop();
    }
  });
});

describe('themis signer modes', () => {
  it('auto: the thread pool for RSA, batches on threads for ECDSA and EdDSA', () => {
    assert.equal(resolveSignerMode('auto', 'RS256'), 'threadpool');
    assert.equal(resolveSignerMode('auto', 'PS384'), 'threadpool');
    assert.equal(resolveSignerMode('auto', 'ES256'), 'threads');
    assert.equal(resolveSignerMode('auto', 'EdDSA'), 'threads');
    assert.equal(resolveSignerMode('inline', 'ES256'), 'inline');
  });

  for (const mode of ['auto', 'threads', 'inline', 'threadpool'] as const) {
    for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
      it(`${mode} signer: concurrent ${alg} tokens over HTTP all verify, across a rotation`, async () => {
        const t = await startThemis({
          token: { alg, key: { directory: '' } },
          signer: { mode, threads: 2 },
        });
        try {
          const url = `http://127.0.0.1:${t.ports.keyPort}/keys/{kid}`;
          const v = createJwtVerifier({ keysUrl: url, algorithms: [alg] });
          const first = t.themis.keys.active().kid;
          const many = (n: number) =>
            Promise.all(
              Array.from({ length: n }, async (_, i) => {
                const res = await issue(t.ports.issuerPort, { 'X-Midt-Mac-Address': `mac:${i}` });
                assert.equal(res.status, 200);
                const token = await res.text();
                const p = await v.verify(token);
                assert.equal(decodeJwt(token)['mac'], `mac:${i}`);
                return { kid: decodeProtectedHeader(token).kid, jti: p.claims['jti'] };
              }),
            );
          const before = await many(40);
          assert.ok(before.every((r) => r.kid === first));
          // tokens asked for while the key changes are signed with the key each was built for
          const during = many(40);
          const rotated = await t.themis.rotate();
          const after = [...(await during), ...(await many(40))];
          assert.ok(after.every((r) => r.kid === first || r.kid === rotated.kid));
          assert.equal(after.at(-1)?.kid, rotated.kid);
          assert.equal(new Set([...before, ...after].map((r) => r.jti)).size, 120);
        } finally {
          await t.stop();
        }
      });
    }
  }
});
