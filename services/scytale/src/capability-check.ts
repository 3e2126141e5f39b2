import { authorizeCapabilities, createCapabilityChecker } from '@xmidt/auth';
import type { CheckMode, Principal } from '@xmidt/auth';
import type { AccessCheck } from './access.js';
import type { ScytaleMetrics } from './metrics.js';

export interface CapabilityCheckOptions {
  mode: Exclude<CheckMode, 'off'>;
  prefix: string;
  acceptAllMethod: string;
  /** Regexes grouping paths for the `endpoint` label; first one matching at index 0 wins. */
  endpointBuckets: readonly string[];
  metrics: ScytaleMetrics;
}

/** The `partnerid` label of the original: none, wildcard, the single id, or many. */
export function partnerLabel(principal: Principal): string {
  const ids = principal.partnerIds;
  if (ids.length === 0) return 'none';
  if (ids.includes('*')) return 'wildcard';
  if (ids.length === 1) return ids[0] ?? 'none';
  return 'many';
}

/**
 * The original's capabilityCheck for JWT callers: some capability
 * `<prefix><endpoint regex>:<method>` must grant the method on the path (with `/api/v3` or
 * `/api/v2` removed). Enforce: refuses with auth_forbidden (403); monitor: only counts.
 */
export function createCapabilityCheck(opts: CapabilityCheckOptions): AccessCheck {
  const checker = createCapabilityChecker({
    prefix: opts.prefix,
    acceptAllMethod: opts.acceptAllMethod,
  });
  // a bucket is written like a capability's endpoint: with or without the leading '/'
  const buckets = opts.endpointBuckets.map((b) => ({
    label: b,
    re: new RegExp(`^(?:${b.startsWith('/') ? b : `/${b}`})`),
  }));
  const bucketOf = (path: string): string =>
    buckets.find((b) => b.re.test(path))?.label ?? 'not_recognized';
  const counter = opts.metrics.capabilityChecks;

  return (principal, request) => {
    if (principal.kind !== 'jwt') return;
    const who = {
      clientid: principal.subject,
      partnerid: partnerLabel(principal),
      endpoint: bucketOf(request.path),
    };
    let decision;
    try {
      decision = authorizeCapabilities(principal, request, checker, opts.mode);
    } catch (err) {
      const reason =
        principal.capabilities.length === 0 ? 'empty_capabilities_list' : 'no_capabilities_match';
      counter.inc({ outcome: 'rejected', reason, ...who });
      throw err;
    }
    const reason =
      decision.reason === 'no_capabilities'
        ? 'empty_capabilities_list'
        : decision.reason === 'no_match'
          ? 'no_capabilities_match'
          : '';
    counter.inc({ outcome: decision.allowed ? 'accepted' : 'rejected', reason, ...who });
  };
}
