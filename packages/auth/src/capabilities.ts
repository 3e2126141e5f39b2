import { RE2JS } from 're2js';
import { AuthError, AuthErrorCode } from './auth-error.js';
import { LruCache } from './lru-cache.js';
import type { Principal } from './principal.js';

export type CheckMode = 'enforce' | 'monitor' | 'off';

export interface CapabilityCheckConfig {
  /** Regex (RE2 syntax) every capability starts with, e.g. `x1:webpa:api:`. No capture groups. */
  prefix: string;
  /** Method word that grants every method. Default 'all'. */
  acceptAllMethod?: string;
  /** Also require the endpoint regex to match the whole path. Default false (the original). */
  anchorEnd?: boolean;
}

export interface CapabilityRequest {
  /** Path as the service matches it (Scytale strips `/api/v3/`, Caduceus `/api/v4/`). */
  path: string;
  method: string;
}

export type CapabilityReason = 'ok' | 'no_capabilities' | 'no_match';

export interface CapabilityChecker {
  /** True when any capability grants the request. */
  check(capabilities: readonly string[], request: CapabilityRequest): boolean;
  /** Like check, with the reason for metrics. */
  evaluate(
    capabilities: readonly string[],
    request: CapabilityRequest,
  ): { allowed: boolean; reason: CapabilityReason };
}

const endpointCache = new LruCache<string, RE2JS | null>(1000);
const FOREVER = Number.MAX_SAFE_INTEGER / 2;

function withSlash(s: string): string {
  return s.startsWith('/') ? s : `/${s}`;
}

function compileEndpoint(endpoint: string, anchorEnd: boolean): RE2JS | null {
  const key = `${anchorEnd ? '1' : '0'}${endpoint}`;
  const hit = endpointCache.get(key);
  if (hit !== undefined) return hit;
  let re: RE2JS | null;
  try {
    re = RE2JS.compile(anchorEnd ? `(?:${withSlash(endpoint)})$` : withSlash(endpoint));
  } catch {
    re = null; // an endpoint that is not a valid regex grants nothing
  }
  endpointCache.set(key, re, FOREVER);
  return re;
}

/** Refuses a prefix with capturing groups (it would shift the endpoint/method groups). */
function assertNoCaptureGroups(prefix: string): void {
  const re = RE2JS.compile(prefix);
  if (re.groupCount() > 0) {
    throw new TypeError('capability prefix must not contain capture groups; use (?:...)');
  }
}

/**
 * Capability strings `<prefix><endpoint regex>:<method>`, matched like the original: the string
 * is split at its last colon; the method must be the accept-all word or the lower-cased request
 * method; the endpoint regex (leading `/` ensured) must match the path starting at index 0 —
 * the end is not anchored unless anchorEnd is set. Regexes have RE2 semantics (linear time).
 */
export function createCapabilityChecker(config: CapabilityCheckConfig): CapabilityChecker {
  assertNoCaptureGroups(config.prefix);
  const matcher = RE2JS.compile(`^${config.prefix}(.+):(.+?)$`);
  const all = config.acceptAllMethod ?? 'all';
  const anchorEnd = config.anchorEnd ?? false;

  function grants(capability: string, path: string, method: string): boolean {
    if (capability.length > 4096) return false;
    const m = matcher.matcher(capability);
    if (!m.matches()) return false;
    const endpoint = m.group(1);
    const capMethod = m.group(2);
    if (endpoint === null || capMethod === null) return false;
    if (capMethod !== all && capMethod !== method) return false;
    const re = compileEndpoint(endpoint, anchorEnd);
    if (!re) return false;
    const pm = re.matcher(path);
    return pm.find() && pm.start() === 0;
  }

  function evaluate(capabilities: readonly string[], request: CapabilityRequest) {
    if (capabilities.length === 0) return { allowed: false, reason: 'no_capabilities' as const };
    const path = withSlash(request.path);
    const method = request.method.toLowerCase();
    for (const c of capabilities)
      if (grants(c, path, method)) return { allowed: true, reason: 'ok' as const };
    return { allowed: false, reason: 'no_match' as const };
  }

  return { evaluate, check: (caps, req) => evaluate(caps, req).allowed };
}

const checkers = new LruCache<string, CapabilityChecker>(32);

/** One-shot form: `checkCapability(caps, { prefix, path, method })`. */
export function checkCapability(
  capabilities: readonly string[],
  request: CapabilityRequest & CapabilityCheckConfig,
): boolean {
  const key = `${request.anchorEnd ? 1 : 0}\u0000${request.acceptAllMethod ?? 'all'}\u0000${request.prefix}`;
  let checker = checkers.get(key);
  if (!checker) {
    checker = createCapabilityChecker(request);
    checkers.set(key, checker, FOREVER);
  }
  return checker.check(capabilities, request);
}

export interface CapabilityDecision {
  allowed: boolean;
  /** False in monitor mode and for Basic principals (the original checks JWTs only). */
  enforced: boolean;
  reason: CapabilityReason | 'not_jwt' | 'off';
}

/**
 * Applies a capability check to a principal in enforce or monitor mode. Throws
 * AuthError('auth_forbidden') only when enforced and denied; the decision is for metrics.
 */
export function authorizeCapabilities(
  principal: Principal,
  request: CapabilityRequest,
  checker: CapabilityChecker,
  mode: CheckMode,
): CapabilityDecision {
  if (mode === 'off') return { allowed: true, enforced: false, reason: 'off' };
  if (principal.kind !== 'jwt') return { allowed: true, enforced: false, reason: 'not_jwt' };
  const { allowed, reason } = checker.evaluate(principal.capabilities, request);
  if (!allowed && mode === 'enforce') {
    throw new AuthError(AuthErrorCode.Forbidden, 'no capability grants this request');
  }
  return { allowed, enforced: mode === 'enforce', reason };
}
