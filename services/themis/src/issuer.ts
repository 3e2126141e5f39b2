import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, parseDuration } from '@xmidt/runtime';
import { ClaimsBuilder } from './claims.js';
import type { ThemisConfig } from './config.js';
import { IssuerListener } from './issuer-listener.js';
import { IssueHandler, registerIssueRoutes, type IssueMetrics } from './routes/issue.js';
import { resolveSignerMode, TokenSigner, type SigningKey } from './signer.js';
import { parsePemBundle, TrustEvaluator } from './trust.js';

function readBundle(key: string, file: string) {
  try {
    return parsePemBundle(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ConfigError([`token.clientCertificates.${key}: cannot read ${file}`], { cause });
  }
}

/** The claims pipeline of a config. Throws ConfigError for bad claim entries. */
export function createClaimsBuilder(config: ThemisConfig): ClaimsBuilder {
  const token = config.token;
  try {
    return new ClaimsBuilder({
      claims: token.claims,
      partnerID: token.partnerID,
      nonce: token.nonce,
      disableTime: token.disableTime,
      durationMs: parseDuration(token.duration),
      disableNotBefore: token.disableNotBefore,
      notBeforeDeltaMs: parseDuration(token.notBeforeDelta),
    });
  } catch (err) {
    throw new ConfigError([err instanceof Error ? err.message : String(err)], { cause: err });
  }
}

export function createTrustEvaluator(config: ThemisConfig): TrustEvaluator {
  const cc = config.token.clientCertificates;
  return new TrustEvaluator({
    ...(cc.rootCAFile ? { roots: readBundle('rootCAFile', cc.rootCAFile) } : {}),
    intermediates: cc.intermediatesFile
      ? readBundle('intermediatesFile', cc.intermediatesFile)
      : [],
    levels: cc.trust,
    untrustedIssuerCN: cc.untrustedCertChecks.map((c) => new RegExp(c.issuerCNRegex)),
  });
}

/** The issuer listener with `/issue` and `/claims` (in-process, or in each cluster worker). */
export function buildIssuer(
  config: ThemisConfig,
  logger: Logger,
  keys: { active(): SigningKey },
  metrics: IssueMetrics,
): IssuerListener {
  const signer = new TokenSigner(resolveSignerMode(config.signer.mode, config.token.alg), {
    threads: config.signer.threads,
  });
  const handler = new IssueHandler({
    builder: createClaimsBuilder(config),
    keys,
    signer,
    trust: createTrustEvaluator(config),
    tls: config.servers.issuer.tls?.mtls !== undefined,
    maxConcurrentRequests: config.servers.issuer.maxConcurrentRequests,
    metrics,
    logger: logger.child({ listener: 'issuer' }),
  });
  const listener = new IssuerListener(config.servers.issuer, logger, (req, res) =>
    handler.dispatch(req, res),
  );
  listener.app.addHook('onClose', () => signer.close());
  registerIssueRoutes(listener.app, handler);
  return listener;
}
