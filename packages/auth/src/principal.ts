/** Who made a request, as established by an {@link Authenticator}. */
export interface Principal {
  kind: 'basic' | 'jwt';
  /** Basic: the user name; JWT: the `sub` claim (or the first configured fallback claim). */
  subject: string;
  /**
   * JWT: `allowedResources.allowedPartners` when present, else `[partner-id]` for a device
   * token, else []. Basic: [] (services may read `X-Xmidt-Partner-Ids` themselves).
   */
  partnerIds: string[];
  /** JWT: the `capabilities` claim (list, or a single string). Basic: []. */
  capabilities: string[];
  /** JWT: every claim of the token. Basic: {}. */
  claims: Record<string, unknown>;
}

export interface Authenticator {
  /** Authenticates an `Authorization` header value; throws {@link AuthError} on failure. */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

/** Walks nested objects: `claimAt(claims, ['allowedResources', 'allowedPartners'])`. */
export function claimAt(claims: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = claims;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
  return undefined;
}

/** The `capabilities` claim as a list: a list of strings or a single string; anything else is []. */
export function capabilitiesOf(claims: Record<string, unknown>): string[] {
  return stringList(claims['capabilities']) ?? [];
}

/** `allowedResources.allowedPartners` if it is a non-empty list of strings, else undefined. */
export function allowedPartnersOf(claims: Record<string, unknown>): string[] | undefined {
  const v = claimAt(claims, ['allowedResources', 'allowedPartners']);
  if (!Array.isArray(v) || v.length === 0) return undefined;
  if (!v.every((x): x is string => typeof x === 'string')) return undefined;
  return v;
}

export function partnerIdsOf(claims: Record<string, unknown>): string[] {
  const allowed = allowedPartnersOf(claims);
  if (allowed) return allowed;
  const pid = claims['partner-id'];
  if (typeof pid === 'string' && pid !== '') return [pid];
  return [];
}
