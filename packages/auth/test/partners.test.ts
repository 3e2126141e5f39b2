import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthError,
  checkWrpPartners,
  cleanPartnerId,
  parsePartnerIdsHeader,
  partnerIdsIntersect,
  partnerIdsOf,
  type Principal,
} from '@xmidt/auth';

describe('Themis partner id cleaning', () => {
  const table: [string, string | undefined][] = [
    ['comcast', 'comcast'],
    ['*,comcast', 'comcast'],
    [' * , comcast , sky', 'comcast'],
    ['*', undefined],
    [' , ,*', undefined],
    ['', undefined],
    ['\uFFFDcox', 'cox'],
    ['a\uD800b', 'ab'],
  ];
  for (const [raw, want] of table) {
    it(`${JSON.stringify(raw)} -> ${String(want)}`, () => assert.equal(cleanPartnerId(raw), want));
  }
});

describe('partner id helpers', () => {
  it('parses X-Xmidt-Partner-Ids', () => {
    assert.deepEqual(parsePartnerIdsHeader(' a, b ,,c '), ['a', 'b', 'c']);
    assert.deepEqual(parsePartnerIdsHeader(undefined), []);
  });
  it('intersects literally (no wildcard)', () => {
    assert.equal(partnerIdsIntersect(['a', 'b'], ['c', 'b']), true);
    assert.equal(partnerIdsIntersect(['*'], ['a']), false);
    assert.equal(partnerIdsIntersect([], ['a']), false);
  });
  it('principal partner ids: allowedPartners, else partner-id', () => {
    assert.deepEqual(
      partnerIdsOf({ allowedResources: { allowedPartners: ['x', 'y'] }, 'partner-id': 'z' }),
      ['x', 'y'],
    );
    assert.deepEqual(partnerIdsOf({ 'partner-id': 'z' }), ['z']);
    assert.deepEqual(partnerIdsOf({ allowedResources: { allowedPartners: [] } }), []);
  });
});

describe('WRP partner rules (Scytale)', () => {
  const jwt = (allowed: unknown): Principal => ({
    kind: 'jwt',
    subject: 's',
    partnerIds: [],
    capabilities: [],
    claims: allowed === undefined ? {} : { allowedResources: { allowedPartners: allowed } },
  });
  const codeOf = (f: () => unknown): string => {
    try {
      return JSON.stringify(f());
    } catch (e) {
      assert.ok(e instanceof AuthError);
      return e.code;
    }
  };
  // [allowed, message partners, enforce result, monitor result]
  const table: [unknown, string[] | undefined, string, string][] = [
    [['comcast'], ['comcast'], '{"action":"accept"}', '{"action":"accept"}'],
    [['comcast', 'sky'], ['sky', 'comcast'], '{"action":"accept"}', '{"action":"accept"}'],
    [['*'], ['anyone'], '{"action":"accept"}', '{"action":"accept"}'],
    [
      ['comcast'],
      ['comcast', 'sky'],
      'auth_partners_forbidden',
      '{"action":"replace","partnerIds":["comcast"],"reason":"unauthorized"}',
    ],
    [
      ['comcast'],
      [],
      'auth_partners_empty',
      '{"action":"replace","partnerIds":["comcast"],"reason":"empty"}',
    ],
    [
      ['*'],
      undefined,
      'auth_partners_empty',
      '{"action":"replace","partnerIds":["*"],"reason":"empty"}',
    ],
    [undefined, ['comcast'], 'auth_partners_missing', 'auth_partners_missing'],
    [[], ['comcast'], 'auth_partners_missing', 'auth_partners_missing'],
    [[1], ['comcast'], 'auth_partners_missing', 'auth_partners_missing'],
    ['comcast', ['comcast'], 'auth_partners_missing', 'auth_partners_missing'],
  ];
  for (const [allowed, given, enforce, monitor] of table) {
    it(`${JSON.stringify(allowed)} vs ${JSON.stringify(given)}`, () => {
      assert.equal(
        codeOf(() => checkWrpPartners(jwt(allowed), given, 'enforce')),
        enforce,
      );
      assert.equal(
        codeOf(() => checkWrpPartners(jwt(allowed), given, 'monitor')),
        monitor,
      );
    });
  }
  it('needs a JWT', () => {
    const basic: Principal = {
      kind: 'basic',
      subject: 'u',
      partnerIds: [],
      capabilities: [],
      claims: {},
    };
    assert.equal(
      codeOf(() => checkWrpPartners(basic, ['a'], 'enforce')),
      'auth_partners_missing',
    );
  });
});
