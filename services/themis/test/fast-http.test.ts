import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { FastHttp, type FastResponse } from '../src/fast-http.js';
import { startThemis } from './helpers.js';
import { rawExchange, type RawAnswer } from './raw-http.js';

// The issuer's fast path (src/fast-http.ts) answers plain GET /issue and /claims on its own and
// leaves every other request, with the rest of its connection, to node's HTTP server. These
// tests speak raw HTTP/1.1 to a real Themis and check both sides of that line.

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

const isJwt = (a: RawAnswer | undefined) => {
  assert.ok(a, 'an answer');
  assert.equal(a.status, 'HTTP/1.1 200 OK', a.head);
  assert.equal(a.headers['content-type'], 'application/jose');
  return decodeJwt(a.body);
};

describe('themis issuer fast path', () => {
  let t: Awaited<ReturnType<typeof startThemis>>;
  let port: number;
  before(async () => {
    t = await startThemis({ token: { alg: 'ES256', key: { directory: '' } } });
    port = t.ports.issuerPort;
  });
  after(() => t.stop());

  it('answers a plain GET /issue with the headers node would write, and keeps the connection', async () => {
    const { answers, closed } = await rawExchange(
      port,
      GET('/issue', 'X-Midt-Mac-Address: mac:112233445566\r\nX-WebPA-Transaction-Id: tid-1\r\n'),
      1,
    );
    assert.equal(closed, false);
    const a = answers[0];
    const claims = isJwt(a);
    assert.equal(claims['mac'], 'mac:112233445566');
    assert.equal(a?.headers['x-webpa-transaction-id'], 'tid-1');
    assert.equal(Number(a?.headers['content-length']), Buffer.byteLength(a?.body ?? ''));
    assert.equal(a?.headers['connection'], 'keep-alive');
    assert.equal(a?.headers['keep-alive'], 'timeout=72');
    assert.ok(Date.parse(a?.headers['date'] ?? '') > 0, 'a Date header');
    assert.equal(
      Date.parse(a?.headers['expires'] ?? ''),
      Number(claims.exp) * 1000,
      'Expires is the token expiry',
    );
  });

  it('answers pipelined requests in order, whichever is ready first', async () => {
    // /claims is answered at once, /issue once its token is signed: the order must hold anyway
    const bytes =
      GET('/issue?mac=mac:000000000001') +
      GET('/claims?mac=mac:000000000002') +
      GET('/issue?mac=mac:000000000003') +
      GET('/claims?mac=mac:000000000004');
    const { answers } = await rawExchange(port, bytes, 4);
    assert.equal(answers.length, 4);
    assert.equal(isJwt(answers[0])['mac'], 'mac:000000000001');
    assert.equal(answers[1]?.status, 'HTTP/1.1 200 OK');
    assert.equal(
      (JSON.parse(answers[1]?.body ?? '{}') as { mac?: string }).mac,
      'mac:000000000002',
    );
    assert.equal(isJwt(answers[2])['mac'], 'mac:000000000003');
    assert.equal(
      (JSON.parse(answers[3]?.body ?? '{}') as { mac?: string }).mac,
      'mac:000000000004',
    );
  });

  it('leaves other requests to node, after answering the ones before them, in order', async () => {
    const bytes =
      GET('/issue?mac=mac:000000000001') +
      `HEAD /issue HTTP/1.1\r\nHost: x\r\n\r\n` + // another method
      GET('/issue?mac=mac:000000000003') + // on node's side from here on
      GET('/nowhere');
    const { answers } = await rawExchange(port, bytes, 4, [1]);
    assert.equal(isJwt(answers[0])['mac'], 'mac:000000000001');
    assert.equal(answers[1]?.status, 'HTTP/1.1 200 OK');
    assert.equal(answers[1]?.body, '');
    assert.equal(isJwt(answers[2])['mac'], 'mac:000000000003');
    assert.equal(answers[3]?.status, 'HTTP/1.1 404 Not Found');
  });

  it('leaves requests node must judge to node: repeated headers, HTTP/1.0, obs-text, bodies', async () => {
    // a repeated header: node keeps the first value of X-Midt-Mac-Address, as Themis reads it
    let r = await rawExchange(
      port,
      GET('/issue', 'X-Midt-Mac-Address: mac:000000000001\r\nX-Midt-Mac-Address: mac:2\r\n'),
      1,
    );
    assert.equal(isJwt(r.answers[0])['mac'], 'mac:000000000001');
    // HTTP/1.0: node answers and closes
    r = await rawExchange(port, 'GET /issue HTTP/1.0\r\n\r\n', 1);
    isJwt(r.answers[0]);
    // a byte outside printable ASCII in a header value (obs-text): node takes it as latin1
    r = await rawExchange(
      port,
      Buffer.concat([
        Buffer.from(
          'GET /claims HTTP/1.1\r\nHost: x\r\nX-Midt-Serial-Number: S\xe9R\r\n\r\n',
          'latin1',
        ),
      ]),
      1,
    );
    assert.equal(r.answers[0]?.status, 'HTTP/1.1 200 OK');
    const utf8 = Buffer.from(r.answers[0]?.body ?? '{}', 'latin1').toString('utf8');
    assert.equal((JSON.parse(utf8) as { serial?: string }).serial, 'S\xe9R');
    // a chunked body on a GET: node reads (and drops) it, the route answers
    r = await rawExchange(
      port,
      'GET /issue HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
        GET('/issue?mac=mac:000000000005'),
      2,
    );
    isJwt(r.answers[0]);
    assert.equal(isJwt(r.answers[1])['mac'], 'mac:000000000005');
  });

  it("gives node's answers to malformed requests: 400 for a bad head or no Host, 431 for a huge one", async () => {
    let r = await rawExchange(port, 'GET /issue HTTP/1.1\r\nthis is not a header\r\n\r\n', 1);
    assert.equal(r.answers[0]?.status, 'HTTP/1.1 400 Bad Request');
    r = await rawExchange(port, 'GET /issue HTTP/1.1\r\n\r\n', 1);
    assert.equal(r.answers[0]?.status, 'HTTP/1.1 400 Bad Request');
    r = await rawExchange(port, GET('/issue', `X-Big: ${'a'.repeat(20_000)}\r\n`), 1);
    assert.equal(r.answers[0]?.status, 'HTTP/1.1 431 Request Header Fields Too Large');
    // bare LF line ends are node's to refuse
    r = await rawExchange(port, 'GET /issue HTTP/1.1\nHost: x\n\n', 1);
    assert.equal(r.answers[0]?.status, 'HTTP/1.1 400 Bad Request');
  });

  it('takes a request head sent a byte at a time', async () => {
    const sock = connect(port, '127.0.0.1');
    try {
      await once(sock, 'connect');
      const bytes = Buffer.from(GET('/claims?mac=mac:000000000007'));
      for (const b of bytes) {
        sock.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
      const [chunk] = (await once(sock, 'data')) as [Buffer];
      let text = chunk.toString('latin1');
      while (!/\r\n\r\n[\s\S]*"mac"/.test(text)) {
        const [more] = (await once(sock, 'data')) as [Buffer];
        text += more.toString('latin1');
      }
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /"mac":"mac:000000000007"/);
    } finally {
      sock.destroy();
    }
  });
});

describe('fast path at shutdown (FastHttp on its own listener)', () => {
  it('answers the request being answered with Connection: close, closes idle connections, then resolves', async () => {
    const held: FastResponse[] = [];
    const fast = new FastHttp({
      dispatch: (_req, res) => {
        held.push(res);
        return true;
      },
      fallback: createHttpServer(),
      keepAliveTimeoutMs: 5000,
      headersTimeoutMs: 5000,
    });
    const server = createServer((s) => fast.accept(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const idle = connect(port, '127.0.0.1');
    const busy = connect(port, '127.0.0.1');
    try {
      await Promise.all([once(idle, 'connect'), once(busy, 'connect')]);
      const idleClosed = once(idle.resume(), 'close');
      busy.write(GET('/issue'));
      while (held.length === 0) await new Promise((r) => setImmediate(r));
      let closed = false;
      const closing = fast.close().then(() => (closed = true));
      await idleClosed;
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(closed, false, 'close waits for the request being answered');
      busy.setEncoding('latin1');
      let text = '';
      busy.on('data', (d: string) => (text += d));
      const busyClosed = once(busy, 'close');
      held[0]?.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      held[0]?.end('ok');
      await closing;
      await busyClosed;
      assert.match(
        text,
        /^HTTP\/1\.1 200 OK\r\ncontent-type: text\/plain\r\ncontent-length: 2\r\n/,
      );
      assert.match(text, /\r\nConnection: close\r\n\r\nok$/);
    } finally {
      idle.destroy();
      busy.destroy();
      server.close();
    }
  });
});
