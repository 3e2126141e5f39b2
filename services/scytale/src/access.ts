import type { Authenticator, Principal } from '@xmidt/auth';
import type { Message } from '@xmidt/wrp';

/** What a caller asks for, as access checks see it. */
export interface AccessRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** Escaped path with `/api/v2` or `/api/v3` removed, e.g. `/device`, `/device/mac:…/stat`. */
  path: string;
  version: 'v2' | 'v3';
  /** The WRP message of a send (absent for stat). */
  message?: Message;
}

/**
 * A check run after authentication (capabilities, partner ids, ...). Refuses by throwing an
 * AuthError (e.g. auth_forbidden -> 403, auth_partners_empty -> 400). May return a replacement
 * message (e.g. partner ids filled in by a monitor-mode partner check); it is forwarded instead.
 */
export type AccessCheck = (
  principal: Principal,
  request: AccessRequest,
) => void | Message | Promise<void | Message>;

/** Who may call Scytale: the authenticator (undefined = open API) and the checks, in order. */
export interface AccessControl {
  authenticator: Authenticator | undefined;
  checks: readonly AccessCheck[];
}

/** The principal of an open API (no authenticator configured). */
export const ANONYMOUS: Principal = {
  kind: 'basic',
  subject: 'anonymous',
  partnerIds: [],
  capabilities: [],
  claims: {},
};

/** Runs the checks in order; returns the message to forward (possibly replaced). */
export async function runAccessChecks(
  access: AccessControl,
  principal: Principal,
  request: AccessRequest,
): Promise<Message | undefined> {
  let message = request.message;
  for (const check of access.checks) {
    const replaced = await check(principal, { ...request, ...(message ? { message } : {}) });
    if (replaced) message = replaced;
  }
  return message;
}
