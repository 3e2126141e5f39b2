import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ANONYMOUS, runAccessChecks } from './access.js';
import type { AccessControl } from './access.js';
import { AuthErrorCode, authErrorResponse, authErrorStatus, isAuthError } from '@xmidt/auth';
import type { Principal } from '@xmidt/auth';
import type { ServiceRings } from '@xmidt/discovery';
import { encodeMsgpack, parseDeviceId } from '@xmidt/wrp';
import type { Fanout, FanoutResponse } from './fanout.js';
import type { ScytaleMetrics } from './metrics.js';
import { WrpRequestError, decodeWrpRequest, requestMode } from './wrp-request.js';

export interface RouteDeps {
  fanout: Fanout;
  rings: ServiceRings;
  access: AccessControl;
  metrics: ScytaleMetrics;
  logger: Logger;
  /** Versions served: always v3, v2 too with previousVersionSupport. */
  versions: ReadonlySet<string>;
  /** Talaria path prefix, e.g. `/api/v2`. */
  pathPrefix: string;
  maxBodyBytes: number;
  /** X-Scytale-* headers sent on every answer. */
  identityHeaders: Record<string, string>;
}

interface VersionParams {
  version: string;
}
interface StatParams extends VersionParams {
  deviceId: string;
}

const TEXT = 'text/plain; charset=utf-8';
/** Refusals of the WRP partner check (the original's WRPCheck), answered in JSON. */
const WRP_CHECK_CODES: ReadonlySet<string> = new Set([
  AuthErrorCode.PartnersEmpty,
  AuthErrorCode.PartnersForbidden,
]);
const API_PREFIX = /^\/api\/v[23](?=\/|$)/;

/** `{"code":400,"message":"Invalid endpoint"}`: the original's answer for anything unrouted. */
function invalidEndpoint(reply: FastifyReply): FastifyReply {
  return reply
    .code(400)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ code: 400, message: 'Invalid endpoint' }));
}

/** A refusal before fan-out: status, the reason in X-Xmidt-Error, no body. */
function setupError(reply: FastifyReply, status: number, reason: string): FastifyReply {
  return reply.code(status).header('x-xmidt-error', reason).type(TEXT).send('');
}

const ASCII = /^[\x00-\x7f]*$/;

/** Header values must be latin1 strings of the bytes to send; device names are UTF-8. */
function headerBytes(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

function sendFanout(reply: FastifyReply, res: FanoutResponse): FastifyReply {
  reply.code(res.status).headers(res.headers);
  if (res.headers['content-type'] === undefined && res.body.length === 0) {
    reply.type(TEXT);
  }
  return reply.send(res.body);
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { metrics, access } = deps;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );

  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(deps.identityHeaders);
    metrics.inFlight.inc();
    done();
  });
  // labelled children by route, method and status, so a response does not build them (bounded)
  const series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  app.addHook('onResponse', (req, reply, done) => {
    metrics.inFlight.dec();
    const route = req.routeOptions.url ?? 'unrouted';
    const key = `${reply.statusCode} ${req.method} ${route}`;
    let s = series.get(key);
    if (!s) {
      const code = String(reply.statusCode);
      if (series.size >= 1000) series.clear();
      s = {
        count: metrics.requests.labels(route, req.method, code),
        time: metrics.requestDuration.labels(route, code),
      };
      series.set(key, s);
    }
    s.count.inc();
    s.time.observe(reply.elapsedTime / 1000);
    done();
  });

  app.setNotFoundHandler((_req, reply) => {
    metrics.rejected.labels('route').inc();
    return invalidEndpoint(reply);
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status =
      typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600
        ? err.statusCode
        : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply
      .code(status)
      .type(TEXT)
      .send(status >= 500 ? 'Internal Server Error' : err.message);
  });

  /** Authenticates the caller; answers and returns undefined when that fails. */
  async function authenticate(
    req: FastifyRequest,
    reply: FastifyReply,
    version: string,
  ): Promise<Principal | undefined> {
    if (!access.authenticator) return ANONYMOUS;
    try {
      return await access.authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      refuse(reply, err, version);
      return undefined;
    }
  }

  function refuse(reply: FastifyReply, err: unknown, version: string): FastifyReply {
    metrics.rejected.labels('auth').inc();
    if (isAuthError(err)) {
      const profile = version === 'v2' ? 'scytale-v2' : 'scytale-v3';
      if (WRP_CHECK_CODES.has(err.code)) {
        // the original's WRPCheck answers are go-kit JSON: {"code": N, "text": "..."}
        const status = authErrorStatus(err.code, profile);
        return reply
          .code(status)
          .type('application/json; charset=utf-8')
          .send(JSON.stringify({ code: status, text: err.message }));
      }
      const r = authErrorResponse(err, profile);
      return reply.code(r.status).headers(r.headers).send(r.body);
    }
    deps.logger.error({ err }, 'authentication failed unexpectedly');
    return reply.code(500).type(TEXT).send('Internal Server Error');
  }

  /** The owning Talaria of the device in every datacenter (each URL once). */
  function owners(deviceId: string): string[] {
    const urls = new Set<string>();
    for (const ring of deps.rings.rings().values()) {
      const url = ring.get(deviceId);
      if (url !== undefined) urls.add(url);
    }
    return [...urls];
  }

  const send = async (
    req: FastifyRequest<{ Params: VersionParams }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    const version = req.params.version;
    const mode = requestMode(req.headers);
    if (!deps.versions.has(version) || mode === undefined) {
      metrics.rejected.labels('route').inc();
      return invalidEndpoint(reply);
    }
    const principal = await authenticate(req, reply, version);
    if (!principal) return reply;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let wrp;
    try {
      wrp = decodeWrpRequest(mode, req.headers, body, { maxBytes: deps.maxBodyBytes });
    } catch (err) {
      if (!(err instanceof WrpRequestError)) throw err;
      metrics.rejected.labels(err.code).inc();
      if (err.code === 'device_name_invalid') return setupError(reply, err.status, err.message);
      return reply.code(err.status).type(TEXT).send(err.message);
    }
    let forward = wrp.body;
    try {
      const path = (req.raw.url ?? '').split('?')[0]?.replace(API_PREFIX, '') ?? '';
      const checked = await runAccessChecks(access, principal, {
        method: req.method,
        path,
        version: version as 'v2' | 'v3',
        message: wrp.message,
      });
      if (checked && checked !== wrp.message) forward = encodeMsgpack(checked);
    } catch (err) {
      return refuse(reply, err, version);
    }
    const urls = owners(wrp.deviceId);
    if (urls.length === 0) return setupError(reply, 500, 'no fanout URLs');
    const res = await deps.fanout.send(urls, {
      method: 'POST',
      path: `${deps.pathPrefix}/device/send`,
      headers: {
        'content-type': 'application/msgpack',
        accept: wrp.responseFormat === 'json' ? 'application/json' : 'application/msgpack',
        'x-webpa-device-name': headerBytes(wrp.deviceName),
      },
      body: forward,
    });
    return sendFanout(reply, res);
  };

  const stat = async (
    req: FastifyRequest<{ Params: StatParams }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    const version = req.params.version;
    if (!deps.versions.has(version)) {
      metrics.rejected.labels('route').inc();
      return invalidEndpoint(reply);
    }
    const principal = await authenticate(req, reply, version);
    if (!principal) return reply;
    const rawPath = (req.raw.url ?? '').split('?')[0] ?? '';
    const path = rawPath.replace(API_PREFIX, '');
    const query = (req.raw.url ?? '').slice(rawPath.length);
    let deviceId: string;
    try {
      deviceId = parseDeviceId(req.params.deviceId);
    } catch {
      metrics.rejected.labels('device_name_invalid').inc();
      return reply
        .code(400)
        .type('application/json; charset=utf-8')
        .send(
          JSON.stringify({
            code: 400,
            message: 'failed to extract device ID: invalid device name',
          }),
        );
    }
    try {
      await runAccessChecks(access, principal, {
        method: req.method,
        path,
        version: version as 'v2' | 'v3',
      });
    } catch (err) {
      return refuse(reply, err, version);
    }
    const urls = owners(deviceId);
    if (urls.length === 0) return setupError(reply, 500, 'no fanout URLs');
    const res = await deps.fanout.send(urls, {
      method: 'GET',
      path: `${deps.pathPrefix}${path}${query}`,
      headers: { 'x-webpa-device-name': headerBytes(req.params.deviceId) },
    });
    return sendFanout(reply, res);
  };

  const methodNotAllowed = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply.code(405).type(TEXT).send('Method Not Allowed');

  app.route({ method: ['POST', 'PUT'], url: '/api/:version/device', handler: send });
  app.route({
    method: ['GET', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/api/:version/device',
    handler: methodNotAllowed,
  });
  app.get('/api/:version/device/:deviceId/stat', stat);
  app.route({
    method: ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/api/:version/device/:deviceId/stat',
    handler: methodNotAllowed,
  });
}
