import { createAuthenticator } from '@xmidt/auth';
import type { Authenticator } from '@xmidt/auth';
import { ConfigError } from '@xmidt/runtime';
import type { Logger } from 'pino';
import type { AccessCheck, AccessControl } from './access.js';
import { createCapabilityCheck } from './capability-check.js';
import type { ScytaleConfig } from './config.js';
import type { ScytaleMetrics } from './metrics.js';
import { createWrpPartnerCheck, requirePartnersClaim } from './partner-check.js';

/** Scytale's JWT rules on top of the shared ones: a `kid` is required; sub, user or username. */
const SCYTALE_JWT = { requireKid: true, subjectClaims: ['sub', 'user', 'username'] } as const;

/**
 * Who may call Scytale, from the `auth`, `capabilityCheck` and `wrpCheck` config blocks:
 * the authenticator (undefined = open API) and the checks run after it, in the original's
 * order (partner claim, capabilities, then the WRP partner ids of a send).
 */
export function createAccessControl(
  config: Pick<ScytaleConfig, 'auth' | 'capabilityCheck' | 'wrpCheck'>,
  metrics: ScytaleMetrics,
  logger: Logger,
): AccessControl {
  const { auth, capabilityCheck, wrpCheck } = config;
  const problems: string[] = [];
  if (wrpCheck.type !== 'off') {
    if (!auth.jwt) problems.push('wrpCheck needs auth.jwt (partner ids come from the JWT)');
    if (auth.basic.length > 0) problems.push('wrpCheck cannot be combined with auth.basic');
  }
  if (auth.jwt && !auth.jwt.keysUrl && !auth.jwt.jwksUrl) {
    problems.push('auth.jwt needs keysUrl or jwksUrl');
  }
  let authenticator: Authenticator | undefined;
  const checks: AccessCheck[] = [requirePartnersClaim];
  try {
    if (auth.basic.length > 0 || auth.jwt) {
      authenticator = createAuthenticator({
        basic: auth.basic,
        ...(auth.jwt ? { jwt: { ...auth.jwt, ...SCYTALE_JWT } } : {}),
      });
    }
    if (capabilityCheck.type !== 'off') {
      checks.push(
        createCapabilityCheck({
          mode: capabilityCheck.type,
          prefix: capabilityCheck.prefix,
          acceptAllMethod: capabilityCheck.acceptAllMethod,
          endpointBuckets: capabilityCheck.endpointBuckets,
          metrics,
        }),
      );
    }
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  if (wrpCheck.type !== 'off') checks.push(createWrpPartnerCheck(wrpCheck.type, metrics));
  if (problems.length > 0) throw new ConfigError(problems);
  if (!authenticator) logger.warn('no authentication configured: the API is open');
  else if (capabilityCheck.type !== 'off' && !auth.jwt) {
    logger.warn('capabilityCheck is on but auth.jwt is not: Basic callers are never checked');
  }
  return { authenticator, checks };
}
