import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WrpError, formatLocator, parseDeviceId, parseLocator } from '../src/index.js';

const rejects = (fn: () => unknown, message: string): void => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WrpError);
    assert.equal(err.code, 'locator_invalid');
    assert.equal(err.message, message);
    return true;
  });
};

describe('parseDeviceId', () => {
  test('canonical ids (wrp-go v5 id_test examples)', () => {
    assert.equal(parseDeviceId('MAC:11:22:33:44:55:66'), 'mac:112233445566');
    assert.equal(parseDeviceId('mac:11-aa-BB-44-55-66/service/foo/bar'), 'mac:11aabb445566');
    assert.equal(parseDeviceId('mac:481d70187fef/parodus/tag/test0'), 'mac:481d70187fef');
    assert.equal(parseDeviceId('mac:11.22.33.44.55,66'), 'mac:112233445566');
    assert.equal(parseDeviceId('uuid:anything Goes!'), 'uuid:anything Goes!');
    assert.equal(parseDeviceId('UUID:ABC'), 'uuid:ABC');
    assert.equal(parseDeviceId('serial:1234/config'), 'serial:1234');
    assert.equal(parseDeviceId('dns:foo.bar.com/service'), 'dns:foo.bar.com');
    assert.equal(parseDeviceId('  self:  '), 'self:');
    assert.equal(
      parseDeviceId('event:device-status/mac:112233445566/online'),
      'event:device-status',
    );
  });

  test('errors carry the original texts', () => {
    rejects(() => parseDeviceId(''), 'invalid device name: empty device ID');
    rejects(() => parseDeviceId('   '), 'invalid device name: empty device ID');
    rejects(
      () => parseDeviceId('invalid:a-BB-44-55'),
      'invalid device name: unknown or missing scheme',
    );
    rejects(() => parseDeviceId('mac'), 'invalid device name: unknown or missing scheme');
    rejects(
      () => parseDeviceId('mac:11-aa-BB-44-55'),
      'invalid device name: invalid MAC address length',
    );
    rejects(
      () => parseDeviceId('mac:1122334455667'),
      'invalid device name: invalid MAC address length',
    );
    rejects(
      () => parseDeviceId('mac:11223344556w'),
      'invalid device name: invalid character `w` in MAC address',
    );
    rejects(() => parseDeviceId('uuid:/x'), 'invalid device name: missing authority in device ID');
    rejects(
      () => parseDeviceId('serial:   /x'),
      'invalid device name: missing authority in device ID',
    );
  });
});

describe('parseLocator', () => {
  test('device schemes split service and ignored', () => {
    assert.deepEqual(parseLocator('mac:11-aa-BB-44-55-66/service/foo/bar'), {
      scheme: 'mac',
      authority: '11aabb445566',
      service: 'service',
      ignored: '/foo/bar',
      id: 'mac:11aabb445566',
      isDevice: true,
    });
    assert.deepEqual(parseLocator('SELF:/service'), {
      scheme: 'self',
      authority: '',
      service: 'service',
      ignored: '',
      id: 'self:',
      isDevice: true,
    });
    assert.equal(parseLocator('self:').service, '');
    assert.equal(parseLocator('uuid:anything Goes!').authority, 'anything Goes!');
  });

  test('dns and event keep everything after the authority in ignored', () => {
    assert.deepEqual(parseLocator('DNS:foo.bar.com/service/ignored/really/really/ignored'), {
      scheme: 'dns',
      authority: 'foo.bar.com',
      service: '',
      ignored: '/service/ignored/really/really/ignored',
      id: 'dns:foo.bar.com',
      isDevice: false,
    });
    const ev = parseLocator('event:   targetedEvent     ');
    assert.equal(ev.scheme, 'event');
    assert.equal(ev.authority, 'targetedEvent');
    assert.equal(
      parseLocator('event:device-status/mac:ffffffffdae4/online').authority,
      'device-status',
    );
  });

  test('errors: "invalid locator" then the device-name error', () => {
    rejects(
      () => parseLocator('event:/anything'),
      'invalid locator\ninvalid device name: missing authority in device ID',
    );
    rejects(
      () => parseLocator('dns:/x'),
      'invalid locator\ninvalid device name: missing authority in device ID',
    );
    rejects(
      () => parseLocator('uuid:/x'),
      'invalid locator\ninvalid device name: missing authority in device ID',
    );
    rejects(
      () => parseLocator('serial:   /x'),
      'invalid locator\ninvalid device name: missing authority in device ID',
    );
    rejects(
      () => parseLocator('source-address'),
      'invalid locator\ninvalid device name: unknown or missing scheme',
    );
    rejects(() => parseLocator('self:anything'), 'invalid locator');
  });

  test('formatLocator rebuilds the canonical text', () => {
    assert.equal(
      formatLocator(parseLocator('MAC:11:22:33:44:55:66/svc/x/y')),
      'mac:112233445566/svc/x/y',
    );
    assert.equal(formatLocator(parseLocator('dns:a.b/c')), 'dns:a.b/c');
  });
});
