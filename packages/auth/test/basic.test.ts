import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthError,
  createAuthenticator,
  createBasicAuthenticator,
  parseAuthorization,
  type Principal,
} from '@xmidt/auth';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function code(p: Promise<Principal>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof AuthError, String(err));
    return err.code;
  }
}

describe('basic authenticator', () => {
  const auth = createBasicAuthenticator(['alice:secret', b64('bob:pa:ss')]);

  it('accepts listed credentials, user:pass or base64 config entries', async () => {
    const p = await auth.authenticate(`Basic ${b64('alice:secret')}`);
    assert.deepEqual(p, {
      kind: 'basic',
      subject: 'alice',
      partnerIds: [],
      capabilities: [],
      claims: {},
    });
    assert.equal((await auth.authenticate(`basic ${b64('bob:pa:ss')}`)).subject, 'bob');
  });

  const cases: [string, string | undefined, string][] = [
    ['no header', undefined, 'auth_missing'],
    ['empty header', '', 'auth_missing'],
    ['wrong password', `Basic ${b64('alice:nope')}`, 'auth_bad_credentials'],
    ['unknown user', `Basic ${b64('mallory:secret')}`, 'auth_bad_credentials'],
    ['prefix of password', `Basic ${b64('alice:secre')}`, 'auth_bad_credentials'],
    ['no colon', `Basic ${b64('alice')}`, 'auth_malformed'],
    ['bad base64', 'Basic %%%', 'auth_malformed'],
    ['no credentials', 'Basic', 'auth_malformed'],
    ['two spaces', `Basic  ${b64('alice:secret')}`, 'auth_malformed'],
    ['trailing space', `Basic ${b64('alice:secret')} `, 'auth_malformed'],
    ['bearer scheme', 'Bearer abc.def.ghi', 'auth_unsupported_scheme'],
    ['huge header', `Basic ${'A'.repeat(20000)}`, 'auth_malformed'],
  ];
  for (const [name, header, want] of cases) {
    it(`rejects ${name} with ${want}`, async () => {
      assert.equal(await code(auth.authenticate(header)), want);
    });
  }

  it('remembers an accepted header without letting any other through', async () => {
    const good = `Basic ${b64('alice:secret')}`;
    for (let i = 0; i < 3; i++) assert.equal((await auth.authenticate(good)).subject, 'alice');
    assert.equal(
      await code(auth.authenticate(`Basic ${b64('alice:secret2')}`)),
      'auth_bad_credentials',
    );
    assert.equal(
      await code(auth.authenticate(`Basic ${b64('alice:secreT')}`)),
      'auth_bad_credentials',
    );
    assert.equal((await auth.authenticate(good)).subject, 'alice');
  });

  it('refuses config entries that are neither user:pass nor base64 of it', () => {
    assert.throws(() => createBasicAuthenticator(['not base64!']), TypeError);
    assert.throws(() => createBasicAuthenticator([b64('nocolon')]), TypeError);
  });
});

describe('authorization header', () => {
  it('splits at the first space', () => {
    assert.deepEqual(parseAuthorization('Bearer a.b.c'), {
      scheme: 'Bearer',
      credentials: 'a.b.c',
    });
  });
});

describe('combined authenticator', () => {
  it('accepts only configured schemes', async () => {
    const basicOnly = createAuthenticator({ basic: ['u:p'] });
    assert.equal((await basicOnly.authenticate(`Basic ${b64('u:p')}`)).kind, 'basic');
    assert.equal(await code(basicOnly.authenticate('Bearer a.b.c')), 'auth_unsupported_scheme');
    assert.equal(await code(basicOnly.authenticate('Digest x')), 'auth_unsupported_scheme');
    const none = createAuthenticator({});
    assert.equal(await code(none.authenticate(`Basic ${b64('u:p')}`)), 'auth_unsupported_scheme');
  });
});
