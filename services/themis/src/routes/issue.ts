import { randomBase64Url } from '../random-pool.js';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClaimsBuilder, ClaimsRequest } from '../claims.js';
import { THEMIS_ERROR_STATUS, ThemisError } from '../errors.js';
import type { SigningKey, TokenSigner } from '../signer.js';
import type { TrustEvaluator } from '../trust.js';

export interface IssueRouteDeps {
  builder: ClaimsBuilder;
  /** The key that signs (a KeyStore, or a worker's copy of the active key). */
  keys: { active(): SigningKey };
  signer: TokenSigner;
  trust: TrustEvaluator;
  /** Judge client certificates (the listener has TLS). */
  tls: boolean;
  maxConcurrentRequests: number;
  metrics: IssueMetrics;
}

/** What the issue routes count (prom-client counters in-process, IPC batches in workers). */
export interface IssueMetrics {
  issued(alg: string, outcome: 'success' | 'failure'): void;
  trust(trust: number, reason: string): void;
}

const MAX_TRANSACTION_ID = 128;

function firstRawHeader(req: FastifyRequest, name: string): string | undefined {
  const raw = req.raw.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}

function claimsRequest(req: FastifyRequest, deps: IssueRouteDeps): ClaimsRequest {
  const query = (req.query ?? {}) as Record<string, string | string[] | undefined>;
  const out: ClaimsRequest = {
    header: (name) => firstRawHeader(req, name),
    parameter: (name) => {
      const v = query[name];
      return Array.isArray(v) ? v[0] : v;
    },
  };
  const trust = deps.trust.evaluateSocket(deps.tls ? (req.raw.socket as TLSSocket) : undefined);
  deps.metrics.trust(trust.trust, trust.reason);
  out.trust = trust;
  return out;
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ThemisError) {
    const status = THEMIS_ERROR_STATUS[err.code];
    if (status === 429) reply.header('retry-after', '1');
    return reply.code(status).type('text/plain; charset=utf-8').send(err.message);
  }
  reply.log.error({ err }, 'issuing failed');
  return reply.code(500).type('text/plain; charset=utf-8').send('internal error');
}

/** `GET /issue` (compact JWS, application/jose) and `GET /claims` (the same claims as JSON). */
export function registerIssueRoutes(app: FastifyInstance, deps: IssueRouteDeps): void {
  let inFlight = 0;
  app.addHook('onRequest', async (req, reply) => {
    const given = req.headers['x-webpa-transaction-id'];
    const tid =
      typeof given === 'string' && given !== '' && given.length <= MAX_TRANSACTION_ID
        ? given
        : randomBase64Url(12);
    reply.header('x-webpa-transaction-id', tid);
  });

  async function guarded(
    reply: FastifyReply,
    work: () => Promise<FastifyReply>,
  ): Promise<FastifyReply> {
    if (deps.maxConcurrentRequests > 0 && inFlight >= deps.maxConcurrentRequests) {
      return sendError(reply, new ThemisError('busy', 'too many requests'));
    }
    inFlight++;
    try {
      return await work();
    } catch (err) {
      return sendError(reply, err);
    } finally {
      inFlight--;
    }
  }

  app.get('/issue', (req, reply) =>
    guarded(reply, async () => {
      const claims = deps.builder.build(claimsRequest(req, deps));
      const key = deps.keys.active();
      let token: string;
      try {
        token = await deps.signer.sign(claims, key);
      } catch (err) {
        deps.metrics.issued(key.alg, 'failure');
        throw new ThemisError('signing_failed', 'signing failed', { cause: err });
      }
      deps.metrics.issued(key.alg, 'success');
      const exp = claims['exp'];
      if (typeof exp === 'number') reply.header('expires', new Date(exp * 1000).toUTCString());
      return reply.type('application/jose').send(token);
    }),
  );

  app.get('/claims', (req, reply) =>
    guarded(reply, async () => {
      const claims = deps.builder.build(claimsRequest(req, deps));
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(claims));
    }),
  );
}
