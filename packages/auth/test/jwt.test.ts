import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { AuthError, createJwtAuthenticator, createJwtVerifier, type Principal } from '@xmidt/auth';

interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}
const rsa = (kid: string): TestKey => ({
  kid,
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }),
});

/** A key server like Themis': PEM at /keys/{kid}, a JWK set at /jwks. */
class KeyServer {
  readonly keys = new Map<string, TestKey>();
  jwksHits = 0;
  keyHits = 0;
  hang = false;
  huge = false;
  server: Server = createServer((req, res) => {
    if (this.hang) return; // never answers
    const url = req.url ?? '';
    if (this.huge) {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end('x'.repeat(200_000));
      return;
    }
    if (url === '/jwks') {
      this.jwksHits++;
      const keys = [...this.keys.values()].map((k) => ({
        ...(k.publicKey.export({ format: 'jwk' }) as object),
        kid: k.kid,
        alg: 'RS256',
        use: 'sig',
      }));
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys }));
      return;
    }
    const m = /^\/keys\/([^/]+)$/.exec(url);
    const key = m ? this.keys.get(decodeURIComponent(m[1] ?? '')) : undefined;
    this.keyHits++;
    if (!key) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('No key exists');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-pem-file' });
    res.end(key.publicKey.export({ type: 'spki', format: 'pem' }));
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const now = () => Math.floor(Date.now() / 1000);

async function token(
  key: TestKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

function b64url(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
}

async function codeOf(p: Promise<Principal>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof AuthError, String(err));
    return err.code;
  }
}

describe('JWT verification', () => {
  const ks = new KeyServer();
  const good = rsa('k1');
  const other = rsa('k2'); // published
  const stranger = rsa('k1'); // same kid as good, never published
  before(async () => {
    ks.keys.set(good.kid, good);
    ks.keys.set(other.kid, other);
    await ks.start();
  });
  after(() => ks.stop());

  const base = () => ({ sub: 'client', iat: now(), nbf: now() - 15, exp: now() + 60 });

  it('accepts a valid token and builds the principal', async () => {
    const auth = createJwtAuthenticator({ keysUrl: `${ks.url}/keys/{kid}` });
    const t = await token(good, {
      ...base(),
      capabilities: ['x1:webpa:api:.*:all'],
      allowedResources: { allowedPartners: ['comcast'] },
    });
    const p = await auth.authenticate(`Bearer ${t}`);
    assert.equal(p.kind, 'jwt');
    assert.equal(p.subject, 'client');
    assert.deepEqual(p.capabilities, ['x1:webpa:api:.*:all']);
    assert.deepEqual(p.partnerIds, ['comcast']);
    assert.equal(p.claims['sub'], 'client');
  });

  it('caches keys by kid (one fetch for many tokens), and works with the {keyID} template', async () => {
    const v = createJwtVerifier({ keysUrl: `${ks.url}/keys/{keyID}` });
    const before = ks.keyHits;
    for (let i = 0; i < 5; i++) await v.verify(await token(good, base()));
    assert.equal(ks.keyHits - before, 1);
  });

  describe('rejections', () => {
    let v: ReturnType<typeof createJwtVerifier>;
    before(() => {
      v = createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}`, negativeTtlMs: 0 });
    });
    const hs256WithPublicKey = async () => {
      const secret = Buffer.from(good.publicKey.export({ type: 'spki', format: 'pem' }));
      return new SignJWT(base()).setProtectedHeader({ alg: 'HS256', kid: good.kid }).sign(secret);
    };
    const cases: [string, () => Promise<string>, string][] = [
      ['expired', () => token(good, { ...base(), exp: now() - 10 }), 'auth_expired'],
      [
        'not yet valid (nbf)',
        () => token(good, { ...base(), nbf: now() + 120 }),
        'auth_not_yet_valid',
      ],
      [
        'issued in the future (iat)',
        () => token(good, { ...base(), iat: now() + 120 }),
        'auth_not_yet_valid',
      ],
      [
        'exp not a number',
        () => token(good, { ...base(), exp: 'tomorrow' }),
        'auth_claims_invalid',
      ],
      ['signed by another key under a known kid', () => token(stranger, base()), 'auth_invalid'],
      [
        'signed by another published key',
        () => token(other, base(), { kid: 'k1' }),
        'auth_invalid',
      ],
      ['unknown kid', () => token(good, base(), { kid: 'nope' }), 'auth_unknown_kid'],
      ['kid with a path', () => token(good, base(), { kid: '../k1' }), 'auth_unknown_kid'],
      ['kid not a string', () => token(good, base(), { kid: 7 }), 'auth_malformed'],
      [
        'no kid: default "current" unknown',
        () => token(good, base(), { kid: undefined }),
        'auth_unknown_kid',
      ],
      [
        'alg none',
        async () => `${b64url({ alg: 'none', kid: 'k1' })}.${b64url(base())}.`,
        'auth_alg_not_allowed',
      ],
      ['HS256 signed with the RSA public key', hs256WithPublicKey, 'auth_alg_not_allowed'],
      [
        'RS384 when only RS256 is allowed',
        () => token(good, base(), { alg: 'RS384' }),
        'auth_alg_not_allowed',
      ],
      ['missing sub', () => token(good, { ...base(), sub: undefined }), 'auth_claims_invalid'],
      ['empty sub', () => token(good, { ...base(), sub: '' }), 'auth_claims_invalid'],
      ['two parts', async () => 'abc.def', 'auth_malformed'],
      ['four parts', async () => 'a.b.c.d', 'auth_malformed'],
      ['header not JSON', async () => `${b64url('nope')}.${b64url(base())}.sig`, 'auth_malformed'],
      ['header an array', async () => `${b64url([1])}.${b64url(base())}.sig`, 'auth_malformed'],
      ['non-base64url chars', async () => 'a+b.c/d.e=f', 'auth_malformed'],
      [
        'payload tampered',
        async () => {
          const [h, , s] = (await token(good, base())).split('.');
          return `${h}.${b64url({ ...base(), sub: 'admin' })}.${s}`;
        },
        'auth_invalid',
      ],
    ];
    for (const [name, make, want] of cases) {
      it(`${name} -> ${want}`, async () => {
        assert.equal(await codeOf(v.verify(await make())), want);
      });
    }

    it('malformed Authorization headers', async () => {
      const auth = createJwtAuthenticator({ keysUrl: `${ks.url}/keys/{kid}` });
      const t = await token(good, base());
      assert.equal(await codeOf(auth.authenticate(undefined)), 'auth_missing');
      assert.equal(await codeOf(auth.authenticate(`Bearer  ${t}`)), 'auth_malformed');
      assert.equal(await codeOf(auth.authenticate(`Bearer`)), 'auth_malformed');
      assert.equal(await codeOf(auth.authenticate(`Basic ${t}`)), 'auth_unsupported_scheme');
      assert.equal(await codeOf(auth.authenticate(`bearer ${t}`)), 'ok');
    });
  });

  it('leeway loosens the time checks', async () => {
    const strict = createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}` });
    const lenient = createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}`, leewaySeconds: 60 });
    const expired = await token(good, { ...base(), exp: now() - 30 });
    const early = await token(good, { ...base(), nbf: now() + 30, iat: now() + 30 });
    assert.equal(await codeOf(strict.verify(expired)), 'auth_expired');
    assert.equal(await codeOf(lenient.verify(expired)), 'ok');
    assert.equal(await codeOf(strict.verify(early)), 'auth_not_yet_valid');
    assert.equal(await codeOf(lenient.verify(early)), 'ok');
  });

  it('requireKid, requireExp and subject fallbacks', async () => {
    const v = createJwtVerifier({
      keysUrl: `${ks.url}/keys/{kid}`,
      requireKid: true,
      requireExp: true,
      subjectClaims: ['sub', 'user', 'username'],
    });
    assert.equal(
      await codeOf(v.verify(await token(good, base(), { kid: undefined }))),
      'auth_invalid',
    );
    assert.equal(
      await codeOf(v.verify(await token(good, { ...base(), exp: undefined }))),
      'auth_claims_invalid',
    );
    const p = await v.verify(await token(good, { ...base(), sub: undefined, username: 'bob' }));
    assert.equal(p.subject, 'bob');
  });

  it('never allows none or HMAC in the allow-list', () => {
    assert.throws(
      () => createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}`, algorithms: ['HS256'] }),
      TypeError,
    );
    assert.throws(
      () => createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}`, algorithms: ['none'] }),
      TypeError,
    );
    assert.throws(() => createJwtVerifier({ keysUrl: `${ks.url}/keys/nokid` }), TypeError);
  });

  describe('JWKS source', () => {
    it('verifies, refreshes on an unknown kid, and rate-limits refreshes', async () => {
      const v = createJwtVerifier({ jwksUrl: `${ks.url}/jwks`, minRefreshIntervalMs: 60_000 });
      assert.equal(await codeOf(v.verify(await token(good, base()))), 'ok');
      const hits = ks.jwksHits;
      // unknown kid right after a fetch: no new fetch (rate limit)
      assert.equal(
        await codeOf(v.verify(await token(good, base(), { kid: 'nope' }))),
        'auth_unknown_kid',
      );
      assert.equal(ks.jwksHits, hits);

      const eager = createJwtVerifier({ jwksUrl: `${ks.url}/jwks`, minRefreshIntervalMs: 0 });
      assert.equal(await codeOf(eager.verify(await token(good, base()))), 'ok');
      const added = rsa('k3');
      ks.keys.set(added.kid, added);
      const h2 = ks.jwksHits;
      assert.equal(await codeOf(eager.verify(await token(added, base()))), 'ok');
      assert.equal(ks.jwksHits, h2 + 1);
      ks.keys.delete(added.kid);
    });
  });

  describe('key fetching bounds', () => {
    it('times out a key server that does not answer', async () => {
      const v = createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}`, fetchTimeoutMs: 200 });
      ks.hang = true;
      try {
        assert.equal(await codeOf(v.verify(await token(good, base()))), 'auth_key_unavailable');
      } finally {
        ks.hang = false;
      }
    });
    it('refuses oversized answers', async () => {
      const v = createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}`, maxResponseBytes: 10_000 });
      ks.huge = true;
      try {
        assert.equal(await codeOf(v.verify(await token(good, base()))), 'auth_key_unavailable');
      } finally {
        ks.huge = false;
      }
    });
    it('rate-limits fetches for uncached kids', async () => {
      const v = createJwtVerifier({ keysUrl: `${ks.url}/keys/{kid}`, maxFetchesPerSecond: 2 });
      const codes: string[] = [];
      for (const kid of ['a1', 'a2', 'a3', 'a4'])
        codes.push(await codeOf(v.verify(await token(good, base(), { kid }))));
      assert.deepEqual(codes.slice(0, 2), ['auth_unknown_kid', 'auth_unknown_kid']);
      assert.ok(codes.slice(2).includes('auth_key_unavailable'));
    });
    it('refuses a key server unreachable', async () => {
      const v = createJwtVerifier({
        keysUrl: 'http://127.0.0.1:1/keys/{kid}',
        fetchTimeoutMs: 1000,
      });
      assert.equal(await codeOf(v.verify(await token(good, base()))), 'auth_key_unavailable');
    });
  });
});

describe('JWS algorithms and keys', () => {
  type Pair = { privateKey: KeyObject; publicKey: KeyObject };
  const pairs: Record<string, Pair> = {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }),
    p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    ed25519: generateKeyPairSync('ed25519'),
  };
  /** Keys served by kid from memory (the kid names the key pair). */
  const keySource = {
    getKey: async (kid: string) => {
      const pair = pairs[kid];
      if (!pair) throw new AuthError('auth_unknown_kid', `no key ${kid}`);
      return { key: pair.publicKey };
    },
  };
  const v = createJwtVerifier({
    keySource,
    algorithms: ['RS256', 'PS256', 'PS512', 'ES256', 'ES384', 'EdDSA'],
  });
  const sign = (alg: string, kid: string, header: Record<string, unknown> = {}) =>
    new SignJWT({ sub: 'dev', exp: now() + 60 })
      .setProtectedHeader({ alg, kid, ...header })
      .sign((pairs[kid] as Pair).privateKey);

  /** RS256 signed with node:crypto directly (jose refuses to sign these headers and keys). */
  const rawRs256 = (kid: string, header: Record<string, unknown> = {}) => {
    const input = `${b64url({ alg: 'RS256', kid, ...header })}.${b64url({ sub: 'dev' })}`;
    const sig = cryptoSign('sha256', Buffer.from(input), (pairs[kid] as Pair).privateKey);
    return `${input}.${sig.toString('base64url')}`;
  };

  const cases: [string, string, string][] = [
    ['RS256', 'rsa', 'ok'],
    ['PS256', 'rsa', 'ok'],
    ['PS512', 'rsa', 'ok'],
    ['ES256', 'p256', 'ok'],
    ['ES384', 'p384', 'ok'],
    ['EdDSA', 'ed25519', 'ok'],
  ];
  for (const [alg, kid, want] of cases) {
    it(`${alg} with a ${kid} key -> ${want}`, async () => {
      assert.equal(await codeOf(v.verify(await sign(alg, kid))), want);
    });
  }

  it('refuses keys that do not fit the algorithm', async () => {
    // signed correctly, then presented under the kid of a key of another kind or size
    const es256 = await sign('ES256', 'p256');
    const asP384 = es256.replace(/^[^.]+/, b64url({ alg: 'ES256', kid: 'p384' }));
    assert.equal(await codeOf(v.verify(asP384)), 'auth_invalid');
    const asRsa = es256.replace(/^[^.]+/, b64url({ alg: 'ES256', kid: 'rsa' }));
    assert.equal(await codeOf(v.verify(asRsa)), 'auth_invalid');
    assert.equal(await codeOf(v.verify(rawRs256('rsa1024'))), 'auth_invalid');
    assert.equal(await codeOf(v.verify(rawRs256('rsa'))), 'ok');
    const rs256 = await sign('RS256', 'rsa');
    const asEc = rs256.replace(/^[^.]+/, b64url({ alg: 'RS256', kid: 'p256' }));
    assert.equal(await codeOf(v.verify(asEc)), 'auth_invalid');
  });

  it('refuses critical header parameters it does not understand', async () => {
    const cases = [{ crit: ['exp'], exp: 1 }, { crit: [] }, { crit: ['b64'] }, { crit: 'b64' }];
    for (const header of cases)
      assert.equal(await codeOf(v.verify(rawRs256('rsa', header))), 'auth_malformed');
    assert.equal(await codeOf(v.verify(rawRs256('rsa', { crit: ['b64'], b64: true }))), 'ok');
  });

  it('refuses a signature of the wrong length', async () => {
    const t = await sign('ES256', 'p256');
    assert.equal(await codeOf(v.verify(`${t.slice(0, t.lastIndexOf('.'))}.AAAA`)), 'auth_invalid');
  });
});
