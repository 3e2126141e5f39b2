import { AuthError, AuthErrorCode, allowedPartnersOf, checkWrpPartners } from '@xmidt/auth';
import type { CheckMode } from '@xmidt/auth';
import type { AccessCheck } from './access.js';
import type { ScytaleMetrics } from './metrics.js';

/**
 * The original's rule for every JWT caller, checks or not: the token must carry
 * `allowedResources.allowedPartners` as a non-empty list of strings (auth_partners_missing,
 * 403). Basic callers pass.
 */
export const requirePartnersClaim: AccessCheck = (principal) => {
  if (principal.kind !== 'jwt') return;
  if (!allowedPartnersOf(principal.claims)) {
    throw new AuthError(
      AuthErrorCode.PartnersMissing,
      'allowedResources.allowedPartners missing or invalid',
    );
  }
};

/**
 * The original's WRPCheck on a send: the message's partner ids against the caller's allowed
 * partners (`*` allows any). Enforce refuses (400 empty, 403 not allowed); monitor forwards the
 * message with the allowed partners instead. Stat requests carry no message and pass.
 */
export function createWrpPartnerCheck(
  mode: Exclude<CheckMode, 'off'>,
  metrics: ScytaleMetrics,
): AccessCheck {
  const counter = metrics.receivedWrpMessages;
  return (principal, request) => {
    const message = request.message;
    if (!message) return;
    const clientid = principal.subject;
    let decision;
    try {
      decision = checkWrpPartners(principal, message.partnerIds, mode);
    } catch (err) {
      const reason =
        err instanceof AuthError && err.code === AuthErrorCode.PartnersEmpty
          ? 'wrp_pid_missing'
          : err instanceof AuthError && err.code === AuthErrorCode.PartnersForbidden
            ? 'wrp_pid_mismatch'
            : 'jwt_pid_invalid';
      counter.inc({ outcome: 'rejected', clientid, reason });
      throw err;
    }
    if (decision.action === 'accept') {
      const wildcard = allowedPartnersOf(principal.claims)?.includes('*') ?? false;
      counter.inc({
        outcome: 'accepted',
        clientid,
        reason: wildcard ? 'jwt_pid_wildcard' : 'wrp_pid_match',
      });
      return;
    }
    counter.inc({
      outcome: 'accepted',
      clientid,
      reason: decision.reason === 'empty' ? 'wrp_pid_missing' : 'wrp_pid_mismatch',
    });
    return { ...message, partnerIds: decision.partnerIds };
  };
}
