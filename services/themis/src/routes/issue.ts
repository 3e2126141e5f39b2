import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ClaimsBuilder, ClaimsRequest } from '../claims.js';
import type { FastResponse } from '../fast-http.js';
import { THEMIS_ERROR_STATUS, ThemisError } from '../errors.js';
import { randomBase64Url } from '../random-pool.js';
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
  /** Where failures are logged. */
  logger: Logger;
}

/** What the issue routes count (prom-client counters in-process, IPC batches in workers). */
export interface IssueMetrics {
  issued(alg: string, outcome: 'success' | 'failure'): void;
  trust(trust: number, reason: string): void;
}

/**
 * What the handler reads of a request: node's IncomingMessage, or a request of the issuer's fast
 * path (fast-http.ts).
 */
export interface IssueRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: Socket;
}

/** How the handler answers: node's ServerResponse, or an answer of the fast path. */
type IssueResponse = FastResponse;

const MAX_TRANSACTION_ID = 128;
const TRANSACTION_ID = 'x-webpa-transaction-id';
const TEXT = 'text/plain; charset=utf-8';

/** The request's `X-WebPA-Transaction-Id` when usable, else a new one. */
function transactionId(req: IssueRequest): string {
  const given = req.headers[TRANSACTION_ID];
  return typeof given === 'string' && given !== '' && given.length <= MAX_TRANSACTION_ID
    ? given
    : randomBase64Url(12);
}

/**
 * The first value of a request header. Node joins repeated headers with ', ' (and keeps only the
 * first of some), so a value without a comma is the first one; one with a comma may be a join and
 * is looked up in the raw header list.
 */
function firstHeader(raw: IssueRequest, name: string): string | undefined {
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
  readonly #req: IssueRequest;
  readonly #query: ParsedUrlQuery | undefined;
  readonly trust: ClaimsRequest['trust'];

  constructor(req: IssueRequest, query: ParsedUrlQuery | undefined, deps: IssueRouteDeps) {
    this.#req = req;
    this.#query = query;
    const trust = deps.trust.evaluateSocket(deps.tls ? (req.socket as TLSSocket) : undefined);
    deps.metrics.trust(trust.trust, trust.reason);
    this.trust = trust;
  }

  header(name: string): string | undefined {
    return firstHeader(this.#req, name);
  }

  parameter(name: string): string | undefined {
    const v = this.#query?.[name];
    return Array.isArray(v) ? v[0] : v;
  }
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

function answer(
  res: IssueResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  headers['content-type'] = type;
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * `GET /issue` (compact JWS, application/jose) and `GET /claims` (the same claims as JSON),
 * answered on node's request and response objects. The issuer listener hands the plain
 * `GET /issue` and `GET /claims` requests straight to {@link IssueHandler.dispatch}; fastify
 * routes every other form of them (HEAD, encoded paths) to the same handler.
 */
export class IssueHandler {
  readonly #deps: IssueRouteDeps;
  readonly #expires = new ExpiresHeader();
  #inFlight = 0;

  constructor(deps: IssueRouteDeps) {
    this.#deps = deps;
  }

  /** Answers `GET /issue[?query]` and `GET /claims[?query]`; false for any other request. */
  dispatch(req: IssueRequest, res: IssueResponse): boolean {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? undefined : parseQuery(url.slice(q + 1));
    if (path === '/issue') this.issue(req, res, query);
    else if (path === '/claims') this.claims(req, res, query);
    else return false;
    return true;
  }

  #error(res: IssueResponse, tid: string, err: unknown): void {
    const headers: Record<string, string> = { [TRANSACTION_ID]: tid };
    if (err instanceof ThemisError) {
      const status = THEMIS_ERROR_STATUS[err.code];
      if (status === 429) headers['retry-after'] = '1';
      return answer(res, status, TEXT, err.message, headers);
    }
    this.#deps.logger.error({ err }, 'issuing failed');
    answer(res, 500, TEXT, 'internal error', headers);
  }

  /**
   * What `/issue` and `/claims` share: the transaction id, the 429 when busy, and the claims of
   * the request; undefined once an error has been answered.
   */
  #prepare(
    req: IssueRequest,
    res: IssueResponse,
    query: ParsedUrlQuery | undefined,
  ): { tid: string; claims: Record<string, unknown> } | undefined {
    const tid = transactionId(req);
    const limit = this.#deps.maxConcurrentRequests;
    if (limit > 0 && this.#inFlight >= limit) {
      this.#error(res, tid, new ThemisError('busy', 'too many requests'));
      return undefined;
    }
    try {
      const claims = this.#deps.builder.build(
        new HttpClaimsRequest(req, query, this.#deps),
        Date.now(),
      );
      return { tid, claims };
    } catch (err) {
      this.#error(res, tid, err);
      return undefined;
    }
  }

  issue(req: IssueRequest, res: IssueResponse, query: ParsedUrlQuery | undefined): void {
    const deps = this.#deps;
    const prepared = this.#prepare(req, res, query);
    if (!prepared) return;
    const { tid, claims } = prepared;
    let key: SigningKey;
    try {
      key = deps.keys.active();
    } catch (err) {
      return this.#error(res, tid, err);
    }
    this.#inFlight++;
    deps.signer.sign(claims, key).then(
      (token) => {
        this.#inFlight--;
        deps.metrics.issued(key.alg, 'success');
        const headers: Record<string, string> = { [TRANSACTION_ID]: tid };
        const exp = claims['exp'];
        if (typeof exp === 'number') headers['expires'] = this.#expires.of(exp);
        answer(res, 200, 'application/jose', token, headers);
      },
      (err: unknown) => {
        this.#inFlight--;
        deps.metrics.issued(key.alg, 'failure');
        this.#error(res, tid, new ThemisError('signing_failed', 'signing failed', { cause: err }));
      },
    );
  }

  claims(req: IssueRequest, res: IssueResponse, query: ParsedUrlQuery | undefined): void {
    const prepared = this.#prepare(req, res, query);
    if (!prepared) return;
    answer(res, 200, 'application/json; charset=utf-8', JSON.stringify(prepared.claims), {
      [TRANSACTION_ID]: prepared.tid,
    });
  }
}

/**
 * The issuer's fastify routes: `/issue` and `/claims` through the {@link IssueHandler}, and the
 * transaction id on fastify's own answers (404 and the like).
 */
export function registerIssueRoutes(app: FastifyInstance, handler: IssueHandler): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.header(TRANSACTION_ID, transactionId(req.raw));
    done();
  });
  app.get('/issue', (req, reply) => {
    reply.hijack();
    handler.issue(req.raw, reply.raw, req.query as ParsedUrlQuery);
  });
  app.get('/claims', (req, reply) => {
    reply.hijack();
    handler.claims(req.raw, reply.raw, req.query as ParsedUrlQuery);
  });
}
