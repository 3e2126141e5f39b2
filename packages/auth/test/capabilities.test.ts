import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthError,
  authorizeCapabilities,
  checkCapability,
  createCapabilityChecker,
  type Principal,
} from '@xmidt/auth';

const prefix = 'x1:webpa:api:';

// [capability, method, path (service-stripped), granted]
const table: [string, string, string, boolean][] = [
  ['x1:webpa:api:.*:all', 'GET', '/device/mac:112233445566/stat', true],
  ['x1:webpa:api:.*:all', 'DELETE', '/anything', true],
  ['x1:webpa:api:device/.*/stat:get', 'GET', '/device/mac:112233445566/stat', true],
  ['x1:webpa:api:device/.*/stat:get', 'POST', '/device/mac:112233445566/stat', false],
  ['x1:webpa:api:device/.*/stat:GET', 'GET', '/device/mac:112233445566/stat', false], // methods are lower case
  ['x1:webpa:api:device:post', 'POST', '/device', true],
  ['x1:webpa:api:device:post', 'POST', '/devices', true], // end not anchored (original)
  ['x1:webpa:api:device:post', 'POST', '/device/send', true],
  ['x1:webpa:api:device:post', 'POST', '/xdevice', false], // start anchored
  ['x1:webpa:api:/device:post', 'POST', '/device', true], // leading slash optional
  ['x1:webpa:api:device/mac:.*/stat:all', 'PUT', '/device/mac:1/stat', true], // split at last colon
  ['x1:webpa:api:hook:post', 'POST', 'hook', true], // path slash ensured
  ['x1:issuer:test:.*:all', 'GET', '/device', false], // other prefix
  ['x1:webpa:api:.*', 'GET', '/device', false], // no method part
  ['x1:webpa:api:(:all', 'GET', '/device', false], // invalid regex grants nothing
  ['xx1:webpa:api:.*:all', 'GET', '/device', false], // prefix anchored
];

describe('capability matching', () => {
  for (const [cap, method, path, want] of table) {
    it(`${cap} ${method} ${path} -> ${want}`, () => {
      assert.equal(checkCapability([cap], { prefix, method, path }), want);
    });
  }

  it('any capability of several may grant', () => {
    const caps = ['x1:webpa:api:hook:post', 'x1:webpa:api:device/.*/stat:get'];
    assert.equal(checkCapability(caps, { prefix, method: 'get', path: '/device/x/stat' }), true);
    assert.equal(checkCapability([], { prefix, method: 'get', path: '/device/x/stat' }), false);
  });

  it('honours acceptAllMethod and anchorEnd', () => {
    const c = createCapabilityChecker({ prefix, acceptAllMethod: 'any', anchorEnd: true });
    assert.equal(c.check(['x1:webpa:api:device:any'], { method: 'GET', path: '/device' }), true);
    assert.equal(c.check(['x1:webpa:api:device:all'], { method: 'GET', path: '/device' }), false);
    assert.equal(c.check(['x1:webpa:api:device:any'], { method: 'GET', path: '/devices' }), false);
  });

  it('prefix may be a regex but not have capture groups', () => {
    const c = createCapabilityChecker({ prefix: '(?:x1|comcast):webpa:api:' });
    assert.equal(c.check(['comcast:webpa:api:.*:all'], { method: 'GET', path: '/x' }), true);
    assert.throws(() => createCapabilityChecker({ prefix: '(x1|comcast):webpa:api:' }), TypeError);
  });

  it('stays linear on pathological regexes (RE2)', () => {
    const c = createCapabilityChecker({ prefix });
    const path = `/${'a'.repeat(5000)}!`;
    assert.equal(c.check(['x1:webpa:api:(a+)+$:all'], { method: 'GET', path }), false);
  });
});

describe('capability enforcement', () => {
  const checker = createCapabilityChecker({ prefix });
  const jwt = (capabilities: string[]): Principal => ({
    kind: 'jwt',
    subject: 's',
    partnerIds: [],
    capabilities,
    claims: {},
  });
  const req = { method: 'POST', path: '/device' };

  it('enforce throws auth_forbidden, monitor only reports', () => {
    assert.throws(
      () => authorizeCapabilities(jwt([]), req, checker, 'enforce'),
      (e: unknown) => e instanceof AuthError && e.code === 'auth_forbidden',
    );
    assert.deepEqual(authorizeCapabilities(jwt([]), req, checker, 'monitor'), {
      allowed: false,
      enforced: false,
      reason: 'no_capabilities',
    });
    assert.deepEqual(
      authorizeCapabilities(jwt(['x1:webpa:api:hook:all']), req, checker, 'monitor').reason,
      'no_match',
    );
    assert.equal(
      authorizeCapabilities(jwt(['x1:webpa:api:device:post']), req, checker, 'enforce').allowed,
      true,
    );
  });

  it('Basic principals and mode off are not checked', () => {
    const basic: Principal = {
      kind: 'basic',
      subject: 'u',
      partnerIds: [],
      capabilities: [],
      claims: {},
    };
    assert.equal(authorizeCapabilities(basic, req, checker, 'enforce').reason, 'not_jwt');
    assert.equal(authorizeCapabilities(jwt([]), req, checker, 'off').allowed, true);
  });
});
