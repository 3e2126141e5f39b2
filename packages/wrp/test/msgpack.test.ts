import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WrpError, decodeMsgpack, encodeMsgpack, type Message } from '../src/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const str = (s: string): string => {
  const b = Buffer.from(s, 'utf8');
  if (b.length < 32) return (0xa0 | b.length).toString(16) + b.toString('hex');
  return `d9${b.length.toString(16).padStart(2, '0')}${b.toString('hex')}`;
};
const fail = (code: string) => (err: unknown) => err instanceof WrpError && err.code === code;

describe('encodeMsgpack', () => {
  test('writes keys in wrp-go v5 order with msg_type first and qos last', () => {
    const m: Message = {
      qos: 30,
      sessionId: 's',
      partnerIds: ['p'],
      url: 'u',
      serviceName: 'n',
      payload: Buffer.from('x'),
      path: '/p',
      metadata: { b: '2', a: '1' },
      headers: ['h'],
      rdr: 1,
      status: 200,
      accept: 'a',
      contentType: 'c',
      transactionUuid: 't',
      dest: 'd',
      source: 'src',
      msgType: 3,
    };
    const expected =
      'de0011' +
      str('msg_type') +
      '03' +
      str('source') +
      str('src') +
      str('dest') +
      str('d') +
      str('transaction_uuid') +
      str('t') +
      str('content_type') +
      str('c') +
      str('accept') +
      str('a') +
      str('status') +
      'd100c8' +
      str('rdr') +
      '01' +
      str('headers') +
      '91' +
      str('h') +
      str('metadata') +
      '82' +
      str('a') +
      str('1') +
      str('b') +
      str('2') +
      str('path') +
      str('/p') +
      str('payload') +
      'c40178' +
      str('service_name') +
      str('n') +
      str('url') +
      str('u') +
      str('partner_ids') +
      '91' +
      str('p') +
      str('session_id') +
      str('s') +
      str('qos') +
      '1e';
    assert.equal(encodeMsgpack(m).toString('hex'), expected);
  });

  test('omits empty strings, writes qos 0, writes empty lists, map and payload', () => {
    const m: Message = {
      msgType: 4,
      source: '',
      dest: 'event:x',
      headers: [],
      metadata: {},
      payload: new Uint8Array(0),
      partnerIds: [],
    };
    assert.equal(
      encodeMsgpack(m).toString('hex'),
      '87' +
        str('msg_type') +
        '04' +
        str('dest') +
        str('event:x') +
        str('headers') +
        '90' +
        str('metadata') +
        '80' +
        str('payload') +
        'c400' +
        str('partner_ids') +
        '90' +
        str('qos') +
        '00',
    );
  });

  test('integers use the signed widths of wrp-go (msgp AppendInt64)', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, 'd10080'],
      [200, 'd100c8'],
      [32767, 'd17fff'],
      [32768, 'd200008000'],
      [2147483647, 'd27fffffff'],
      [2147483648, 'd30000000080000000'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd0df'],
      [-128, 'd080'],
      [-129, 'd1ff7f'],
      [-32768, 'd18000'],
      [-32769, 'd2ffff7fff'],
      [-2147483648, 'd280000000'],
      [-2147483649, 'd3ffffffff7fffffff'],
      [Number.MAX_SAFE_INTEGER, 'd3001fffffffffffff'],
    ];
    for (const [value, wire] of cases) {
      const out = encodeMsgpack({ msgType: 2, status: value }).toString('hex');
      const expected = `83${str('msg_type')}02${str('status')}${wire}${str('qos')}00`;
      assert.equal(out, expected, `status ${value}`);
      assert.equal(decodeMsgpack(hex(out)).status, value);
    }
  });

  test('strings use fixstr, str8, str16 and str32; payload bin8, bin16 and bin32', () => {
    for (const n of [0, 1, 31, 32, 255, 256, 65535, 65536]) {
      const s = 'é'.repeat(n >> 1) + 'a'.repeat(n & 1);
      const p = new Uint8Array(n).fill(7);
      const out = encodeMsgpack({ msgType: 4, source: s || undefined, payload: p });
      const back = decodeMsgpack(out, { maxBytes: 1 << 20, maxStringLength: 1 << 20 });
      assert.equal(back.source, s || undefined);
      assert.deepEqual(Array.from(back.payload ?? []), Array.from(p));
    }
  });

  test('rejects integers that are not safe integers', () => {
    assert.throws(() => encodeMsgpack({ msgType: 2, status: 1.5 }), fail('wrp_invalid'));
    assert.throws(() => encodeMsgpack({ msgType: Number.NaN }), fail('wrp_invalid'));
    assert.throws(() => encodeMsgpack({ msgType: 4, qos: 2 ** 60 }), fail('wrp_invalid'));
  });

  test('earlier results stay intact while later messages are encoded', () => {
    const outs: [Buffer, string][] = [];
    for (let i = 0; i < 3000; i++) {
      const m: Message = {
        msgType: 4,
        source: `mac:${String(i).padStart(12, '0')}`,
        dest: 'event:x',
        payload: new Uint8Array(i % 700).fill(i & 0xff),
      };
      const b = encodeMsgpack(m);
      outs.push([b, Buffer.from(b).toString('hex')]);
    }
    const big = encodeMsgpack({ msgType: 4, payload: new Uint8Array(100_000) });
    // map header, msg_type, payload key + bin32 header, qos
    assert.equal(big.length, 1 + 10 + 8 + 5 + 100_000 + 5);
    for (const [b, h] of outs) assert.equal(b.toString('hex'), h);
  });

  test('metadata keys are written sorted; __proto__ is an ordinary key', () => {
    const md: Record<string, string> = JSON.parse('{"z":"1","__proto__":"p","a":"2"}') as Record<
      string,
      string
    >;
    const back = decodeMsgpack(encodeMsgpack({ msgType: 4, metadata: md }));
    assert.deepEqual(Object.keys(back.metadata ?? {}), ['__proto__', 'a', 'z']);
    assert.equal(back.metadata?.['__proto__'], 'p');
    assert.equal(Object.getPrototypeOf(back.metadata), Object.prototype);
  });
});

describe('decodeMsgpack', () => {
  const base = str('msg_type') + '04';

  test('accepts unsigned and signed integers of every width', () => {
    for (const wire of [
      '2a',
      'cc2a',
      'cd002a',
      'ce0000002a',
      'cf000000000000002a',
      'd02a',
      'd1002a',
      'd20000002a',
      'd3000000000000002a',
    ]) {
      assert.equal(decodeMsgpack(hex(`82${base}${str('qos')}${wire}`)).qos, 42, wire);
    }
    assert.equal(decodeMsgpack(hex(`82${base}${str('rdr')}d0ff`)).rdr, -1);
  });

  test('rejects integers beyond 2^53, floats and other types', () => {
    assert.throws(
      () => decodeMsgpack(hex(`82${base}${str('status')}cfffffffffffffffff`)),
      fail('wrp_malformed'),
    );
    assert.throws(
      () => decodeMsgpack(hex(`82${base}${str('status')}d38000000000000000`)),
      fail('wrp_malformed'),
    );
    assert.throws(
      () => decodeMsgpack(hex(`82${base}${str('status')}cb3ff0000000000000`)),
      fail('wrp_malformed'),
    );
    assert.throws(
      () => decodeMsgpack(hex(`82${base}${str('status')}${str('200')}`)),
      fail('wrp_malformed'),
    );
  });

  test('payload as str is accepted; nil fields are absent', () => {
    const m = decodeMsgpack(
      hex(`84${base}${str('payload')}${str('hello')}${str('source')}c0${str('status')}c0`),
    );
    assert.deepEqual(Buffer.from(m.payload ?? []).toString(), 'hello');
    assert.equal('source' in m, false);
    assert.equal('status' in m, false);
  });

  test('duplicate keys: the last one wins (Parodus metadata splice)', () => {
    const first = `${str('metadata')}81${str('a')}${str('1')}`;
    const second = `${str('metadata')}81${str('b')}${str('2')}`;
    const m = decodeMsgpack(hex(`84${base}${str('source')}${str('x')}${first}${second}`));
    assert.deepEqual(m.metadata, { b: '2' });
    const m2 = decodeMsgpack(
      hex(`83${base}${str('source')}${str('x')}${str('source')}${str('y')}`),
    );
    assert.equal(m2.source, 'y');
  });

  test('unknown keys of any shape are skipped', () => {
    const spans = `${str('spans')}9193${str('hop-1')}ce0754d4ec0b`;
    const nested = `${str('x')}83${str('a')}92c0c3${str('b')}c70301020304${str('c')}cb3ff0000000000000`;
    const m = decodeMsgpack(hex(`84${base}${spans}${nested}${str('dest')}${str('event:x')}`));
    assert.deepEqual(m, { msgType: 4, dest: 'event:x' });
  });

  test('a lone string stands for a one-element list; metadata values may be nil, int or bool', () => {
    const m = decodeMsgpack(
      hex(
        `83${base}${str('partner_ids')}${str('p1')}${str('metadata')}83${str('a')}c0${str('b')}2a${str('c')}c3`,
      ),
    );
    assert.deepEqual(m.partnerIds, ['p1']);
    assert.deepEqual(m.metadata, { a: '', b: '42', c: 'true' });
  });

  test('bytes after the message are ignored, as wrp-go does', () => {
    assert.deepEqual(decodeMsgpack(hex(`81${base}c0c0`)), { msgType: 4 });
  });

  test('accepts a plain Uint8Array; the payload is a view unless copyPayload is set', () => {
    const bytes = new Uint8Array(encodeMsgpack({ msgType: 4, payload: Buffer.from('abc') }));
    const view = decodeMsgpack(bytes);
    const copy = decodeMsgpack(bytes, { copyPayload: true });
    bytes.fill(0x41, bytes.length - 8);
    assert.notEqual(Buffer.from(view.payload ?? []).toString(), 'abc');
    assert.equal(Buffer.from(copy.payload ?? []).toString(), 'abc');
  });

  test('malformed input gives wrp_malformed', () => {
    const cases = [
      '',
      'c0',
      '90',
      '81',
      `81${str('msg_type')}`,
      `81${str('msg_type')}c0`,
      `80`,
      `81${str('source')}${str('x')}`,
      `8101${str('x')}`,
      `82${base}${str('source')}2a`,
      `82${base}${str('headers')}92${str('a')}`,
      `82${base}${str('headers')}91c0`,
      `82${base}${str('metadata')}81c0${str('x')}`,
      `82${base}${str('metadata')}81${str('a')}90`,
      `82${base}${str('x')}c1`,
      `82${base}${str('source')}a3ff6162`,
      `82${base}${str('source')}a2eda080`,
      `df00000002${base}`,
    ];
    for (const c of cases) assert.throws(() => decodeMsgpack(hex(c)), fail('wrp_malformed'), c);
    assert.throws(() => decodeMsgpack('81' as unknown as Uint8Array), fail('wrp_malformed'));
  });

  test('limits give wrp_too_large before anything large is built', () => {
    const big = encodeMsgpack({
      msgType: 4,
      source: 'x'.repeat(100),
      headers: ['a', 'b', 'c'],
      metadata: { a: '1', b: '2', c: '3' },
    });
    assert.throws(() => decodeMsgpack(big, { maxBytes: 50 }), fail('wrp_too_large'));
    assert.throws(() => decodeMsgpack(big, { maxStringLength: 99 }), fail('wrp_too_large'));
    assert.throws(() => decodeMsgpack(big, { maxEntries: 2 }), fail('wrp_too_large'));
    assert.throws(() => decodeMsgpack(big, { maxMetadataEntries: 2 }), fail('wrp_too_large'));
    assert.throws(() => decodeMsgpack(big, { maxDepth: 1 }), fail('wrp_too_large'));
    decodeMsgpack(big, { maxStringLength: 100, maxEntries: 5, maxMetadataEntries: 3, maxDepth: 2 });

    // a map header claiming 4 billion entries is refused without allocating
    assert.throws(
      () => decodeMsgpack(hex(`82${base}${str('headers')}ddffffffff`)),
      fail('wrp_too_large'),
    );
    assert.throws(
      () => decodeMsgpack(hex(`82${base}${str('headers')}ddffffffff`), { maxEntries: 2 ** 32 }),
      fail('wrp_malformed'),
    );
    // deep nesting in an unknown key
    const deep = `82${base}${str('x')}${'91'.repeat(40)}c0`;
    assert.throws(() => decodeMsgpack(hex(deep)), fail('wrp_too_large'));
    assert.deepEqual(decodeMsgpack(hex(deep), { maxDepth: 50 }), { msgType: 4 });
  });
});

describe('decodeMsgpack metadata keys', () => {
  test('keys that share length, first and last byte never stand in for each other', () => {
    // same cache slot: length 5, first '/', last 'x'
    const keys = ['/abcx', '/abdx', '/zzzx', '/a\u00e9x'];
    for (let round = 0; round < 3; round++) {
      for (const k of keys) {
        const m = decodeMsgpack(
          encodeMsgpack({ msgType: 4, dest: 'event:x', metadata: { [k]: k } }),
        );
        assert.deepEqual(m.metadata, { [k]: k });
      }
    }
  });

  test('a key with invalid UTF-8 is refused even after a valid key of the same shape', () => {
    const good = encodeMsgpack({ msgType: 4, dest: 'event:x', metadata: { '/k\u00e9': 'v' } });
    assert.deepEqual(decodeMsgpack(good).metadata, { '/k\u00e9': 'v' });
    const bad = Buffer.from(good);
    const at = bad.indexOf(Buffer.from('/k\u00e9', 'utf8'));
    assert.ok(at > 0);
    bad[at + 2] = 0xff; // 0xff 0xa9: not UTF-8
    assert.throws(() => decodeMsgpack(bad), WrpError);
  });
});
