import { randomBase64Url } from '../random-pool.js';
import type { IncomingMessage } from 'node:http';
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

/**
 * The first value of a request header. Node joins repeated headers with ', ' (and keeps only the
 * first of some), so a value without a comma is the first one; one with a comma may be a join and
 * is looked up in the raw header list.
 */
function firstHeader(raw: IncomingMessage, name: string): string | undefined {
  const v = raw.headers[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return v[0];
  if (!v.includes(',')) return v;
  const list = raw.rawHeaders;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const n = list[i] ?? '';
    if (n.length === name.length && n.toLowerCase() === name) return list[i + 1];
  }
  return undefined;
}

/** A ClaimsRequest over one HTTP request: headers, query parameters and the TLS peer. */
class HttpClaimsRequest implements ClaimsRequest {
  readonly #req: FastifyRequest;
  readonly trust: ClaimsRequest['trust'];

  constructor(req: FastifyRequest, deps: IssueRouteDeps) {
    this.#req = req;
    const trust = deps.trust.evaluateSocket(deps.tls ? (req.raw.socket as TLSSocket) : undefined);
    deps.metrics.trust(trust.trust, trust.reason);
    this.trust = trust;
  }

  header(name: string): string | undefined {
    return firstHeader(this.#req.raw, name);
  }

  parameter(name: string): string | undefined {
    const v = (this.#req.query as Record<string, string | string[] | undefined> | undefined)?.[
      name
    ];
    return Array.isArray(v) ? v[0] : v;
  }
}

function sendError(reply: FastifyReply, err: unknown): void {
  if (err instanceof ThemisError) {
    const status = THEMIS_ERROR_STATUS[err.code];
    if (status === 429) reply.header('retry-after', '1');
    reply.code(status).type('text/plain; charset=utf-8').send(err.message);
    return;
  }
  reply.log.error({ err }, 'issuing failed');
  reply.code(500).type('text/plain; charset=utf-8').send('internal error');
}

/** `Expires` of the last `exp` seen: tokens issued in the same second share it. */
class ExpiresHeader {
  #exp = NaN;
  #text = '';
  of(exp: number): string {
    if (exp !== this.#exp) {
      this.#exp = exp;
      this.#text = new Date(exp * 1000).toUTCString();
    }
    return this.#text;
  }
}

/** `GET /issue` (compact JWS, application/jose) and `GET /claims` (the same claims as JSON). */
export function registerIssueRoutes(app: FastifyInstance, deps: IssueRouteDeps): void {
  let inFlight = 0;
  const limit = deps.maxConcurrentRequests;
  const expires = new ExpiresHeader();
  const busy = new ThemisError('busy', 'too many requests');

  app.addHook('onRequest', (req, reply, done) => {
    const given = req.headers['x-webpa-transaction-id'];
    const tid =
      typeof given === 'string' && given !== '' && given.length <= MAX_TRANSACTION_ID
        ? given
        : randomBase64Url(12);
    reply.header('x-webpa-transaction-id', tid);
    done();
  });

  const claimsOf = (req: FastifyRequest) =>
    deps.builder.build(new HttpClaimsRequest(req, deps), Date.now());

  // The handlers answer through `reply` and return nothing: a returned reply or promise would
  // make fastify wait for the response stream to finish, on every request.
  app.get('/issue', (req, reply): void => {
    if (limit > 0 && inFlight >= limit) return sendError(reply, busy);
    let claims: Record<string, unknown>;
    let key: SigningKey;
    try {
      claims = claimsOf(req);
      key = deps.keys.active();
    } catch (err) {
      return sendError(reply, err);
    }
    inFlight++;
    deps.signer.sign(claims, key).then(
      (token) => {
        inFlight--;
        deps.metrics.issued(key.alg, 'success');
        const exp = claims['exp'];
        if (typeof exp === 'number') reply.header('expires', expires.of(exp));
        reply.type('application/jose').send(token);
      },
      (err: unknown) => {
        inFlight--;
        deps.metrics.issued(key.alg, 'failure');
        sendError(reply, new ThemisError('signing_failed', 'signing failed', { cause: err }));
      },
    );
  });

  app.get('/claims', (req, reply): void => {
    if (limit > 0 && inFlight >= limit) return sendError(reply, busy);
    let claims: Record<string, unknown>;
    try {
      claims = claimsOf(req);
    } catch (err) {
      return sendError(reply, err);
    }
    reply.type('application/json; charset=utf-8').send(JSON.stringify(claims));
  });
}
