import type { FastifyReply } from 'fastify';

/** Codes of @xmidt/auth errors that mean "authenticated but not allowed". */
const FORBIDDEN = new Set(['auth_forbidden', 'auth_partners_missing', 'auth_partners_forbidden']);

export type AuthProfile = 'notify-v4' | 'notify-v3' | 'registration';

function codeOf(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'auth_invalid';
}

/**
 * Answers an authentication failure. v4 notify and registration: 401 with
 * `WWW-Authenticate: Bearer` and an empty body, 403 when not allowed. v3 notify (legacy): 400
 * for a malformed header, 403 for everything else.
 */
export function replyAuthError(reply: FastifyReply, err: unknown, profile: AuthProfile) {
  const code = codeOf(err);
  if (profile === 'notify-v3') {
    return reply.code(code === 'auth_malformed' ? 400 : 403).send();
  }
  if (FORBIDDEN.has(code)) return reply.code(403).send();
  return reply.code(401).header('www-authenticate', 'Bearer').send();
}
