import type { FastifyReply } from 'fastify';
import { authErrorResponse, isAuthError, type AuthStatusProfile } from '@xmidt/auth';

/**
 * Answers an authentication failure with @xmidt/auth's Caduceus table: `caduceus-v4` (notify v4
 * and registration) is 401 + `WWW-Authenticate: Bearer` with an empty body, 403 when not
 * allowed; `caduceus-v3` (legacy notify) is 400 for a malformed header and 403 otherwise.
 * Anything that is not an AuthError is a server fault and is rethrown.
 */
export function replyAuthError(reply: FastifyReply, err: unknown, profile: AuthStatusProfile) {
  if (!isAuthError(err)) throw err;
  const r = authErrorResponse(err, profile);
  reply.code(r.status);
  for (const [name, value] of Object.entries(r.headers)) reply.header(name, value);
  return reply.send(r.body === '' ? undefined : r.body);
}
