import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fastify } from 'fastify';
import { XmidtError, createErrorHandler, sendError, statusForError } from '@xmidt/runtime';

describe('http errors', () => {
  it('sendError writes the common {code, message} body', async () => {
    const app = fastify();
    app.get('/e', (_req, reply) => sendError(reply, 404, 'device not found'));
    app.get('/c', (_req, reply) => sendError(reply, 503, 'busy', 531));
    const a = await app.inject({ method: 'GET', url: '/e' });
    assert.equal(a.statusCode, 404);
    assert.match(String(a.headers['content-type']), /^application\/json/);
    assert.deepEqual(a.json(), { code: 404, message: 'device not found' });
    const b = await app.inject({ method: 'GET', url: '/c' });
    assert.deepEqual([b.statusCode, b.json()], [503, { code: 531, message: 'busy' }]);
    await app.close();
  });

  it('maps error codes to statuses through one table', () => {
    const table = { device_not_found: 404, unauthorized: 401 };
    assert.equal(statusForError(new XmidtError('device_not_found', 'x'), table), 404);
    assert.equal(statusForError(new XmidtError('other', 'x'), table), 500);
    assert.equal(statusForError(Object.assign(new Error('big'), { statusCode: 413 })), 413);
    assert.equal(statusForError('weird', table, 502), 502);
  });

  it('createErrorHandler answers with the table status and hides 5xx details', async () => {
    const app = fastify({ bodyLimit: 10 });
    app.setErrorHandler(createErrorHandler({ bad_wrp: 400 }));
    app.get('/bad', () => {
      throw new XmidtError('bad_wrp', 'missing dest');
    });
    app.get('/boom', () => {
      throw new Error('secret internals');
    });
    app.post('/body', () => 'ok');
    const bad = await app.inject({ method: 'GET', url: '/bad' });
    assert.deepEqual([bad.statusCode, bad.json()], [400, { code: 400, message: 'missing dest' }]);
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    assert.deepEqual(boom.json(), { code: 500, message: 'Internal Server Error' });
    const big = await app.inject({
      method: 'POST',
      url: '/body',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify('x'.repeat(100)),
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json<{ code: number }>().code, 413);
    await app.close();
  });

  it('XmidtError keeps code, name and cause', () => {
    const cause = new Error('root');
    const err = new XmidtError('queue_full', 'queue is full', { cause });
    assert.equal(err.code, 'queue_full');
    assert.equal(err.name, 'XmidtError');
    assert.equal(err.cause, cause);
    assert.ok(err instanceof Error);
  });
});
