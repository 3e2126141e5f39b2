import { AuthError, AuthErrorCode } from './auth-error.js';
import { allowedPartnersOf, type Principal } from './principal.js';
import type { CheckMode } from './capabilities.js';

/** Most comma-separated pieces looked at in a partner id header. */
const MAX_PIECES = 64;

function stripInvalidText(s: string): string {
  // Lone surrogates and U+FFFD (what invalid UTF-8 decodes to) are dropped.
  return s.replace(/[\uD800-\uDFFF\uFFFD]/gu, (c) => (c.length === 2 ? c : ''));
}

/**
 * Themis' rule for a device's partner id: split on ',', trim each piece, drop invalid text, and
 * take the first piece that is non-empty and not '*'. Returns undefined when no piece qualifies
 * (Themis answers 400 `invalid partner id`).
 */
export function cleanPartnerId(raw: string): string | undefined {
  const pieces = raw.split(',', MAX_PIECES);
  for (const p of pieces) {
    const v = stripInvalidText(p).trim();
    if (v !== '' && v !== '*') return v;
  }
  return undefined;
}

/** `X-Xmidt-Partner-Ids` (Basic webhook registrants): comma-separated, each trimmed, empties dropped. */
export function parsePartnerIdsHeader(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',', MAX_PIECES)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Caduceus' delivery filter: true when the two lists share a literal string ('*' is not special). */
export function partnerIdsIntersect(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  const set = new Set(a);
  return b.some((x) => set.has(x));
}

export type PartnerDecision =
  | { action: 'accept' }
  /** Monitor mode: forward the message with these partner ids instead. */
  | { action: 'replace'; partnerIds: string[]; reason: 'empty' | 'unauthorized' };

/**
 * Scytale's rule for the partner ids of a WRP message sent by a caller:
 * the caller's JWT must carry `allowedResources.allowedPartners` (non-empty string list, else
 * auth_partners_missing, 403); an empty message list is auth_partners_empty (400); `*` in the
 * allowed list accepts anything; otherwise every message partner must be allowed, else
 * auth_partners_forbidden (403). In monitor mode the last two do not throw but ask for the
 * message's partner ids to be replaced by the allowed list.
 */
export function checkWrpPartners(
  principal: Principal,
  messagePartnerIds: readonly string[] | undefined,
  mode: Exclude<CheckMode, 'off'>,
): PartnerDecision {
  if (principal.kind !== 'jwt') {
    throw new AuthError(AuthErrorCode.PartnersMissing, 'partner checks need a JWT');
  }
  const allowed = allowedPartnersOf(principal.claims);
  if (!allowed) {
    throw new AuthError(
      AuthErrorCode.PartnersMissing,
      'allowedResources.allowedPartners missing or invalid',
    );
  }
  const given = messagePartnerIds ?? [];
  if (given.length === 0) {
    if (mode === 'monitor') return { action: 'replace', partnerIds: [...allowed], reason: 'empty' };
    throw new AuthError(AuthErrorCode.PartnersEmpty, 'WRP PartnerIDs field must not be empty');
  }
  if (allowed.includes('*')) return { action: 'accept' };
  const set = new Set(allowed);
  if (given.every((p) => set.has(p))) return { action: 'accept' };
  if (mode === 'monitor')
    return { action: 'replace', partnerIds: [...allowed], reason: 'unauthorized' };
  throw new AuthError(
    AuthErrorCode.PartnersForbidden,
    'Unauthorized partners credentials in WRP message',
  );
}
