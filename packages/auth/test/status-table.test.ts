import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, authErrorResponse, authErrorStatus } from '@xmidt/auth';

describe('status table', () => {
  it('Talaria v2 answers 403 where v3 answers 401 (Parodus refreshes on 403)', () => {
    assert.equal(authErrorStatus('auth_expired', 'talaria-v2'), 403);
    assert.equal(authErrorStatus('auth_expired', 'talaria-v3'), 401);
    assert.equal(authErrorStatus('auth_missing', 'talaria-v2'), 403);
    assert.equal(authErrorStatus('auth_invalid', 'talaria-v2'), 400);
    assert.equal(authErrorStatus('auth_unknown_kid', 'talaria-v3'), 400);
    assert.equal(authErrorStatus('auth_unsupported_scheme', 'talaria-v3'), 403);
  });
  it('Scytale: capability 403, missing partners 403 (not 500)', () => {
    assert.equal(authErrorStatus('auth_forbidden', 'scytale-v3'), 403);
    assert.equal(authErrorStatus('auth_partners_missing', 'scytale-v3'), 403);
    assert.equal(authErrorStatus('auth_partners_empty', 'scytale-v3'), 400);
    assert.equal(authErrorStatus('auth_bad_credentials', 'scytale-v3'), 401);
  });
  it('Caduceus v4: 401 with WWW-Authenticate and empty body', () => {
    const r = authErrorResponse(new AuthError('auth_invalid', 'x'), 'caduceus-v4');
    assert.deepEqual(r, { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: '' });
    assert.equal(
      authErrorResponse(new AuthError('auth_forbidden', 'x'), 'caduceus-v4').status,
      403,
    );
    assert.equal(
      authErrorResponse(new AuthError('auth_malformed', 'x'), 'caduceus-v3').status,
      400,
    );
    assert.equal(authErrorResponse(new AuthError('auth_expired', 'x'), 'caduceus-v3').status, 403);
  });
  it('text bodies as the original', () => {
    const r = authErrorResponse(new AuthError('auth_missing', 'x'), 'talaria-v3');
    assert.equal(r.body, 'missing credentials');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  });
});
