import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authErrorResponse, isAuthError } from '@xmidt/auth';
import type { Authenticator } from '@xmidt/auth';
import {
  decodeJson,
  decodeMsgpack,
  encodeJson,
  encodeMsgpack,
  parseDeviceId,
  validateMessage,
} from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import type { DeviceRegistry } from '../device-registry.js';
import { isTransactionType } from '../device-manager.js';
import { TalariaError, httpStatusOf } from '../errors.js';
import type { Gate } from '../gate.js';
import { authProfile } from '../handshake.js';
import type { TalariaMetrics } from '../metrics.js';
import { sendToDevice } from '../request-response.js';

export interface ApiDeps {
  registry: DeviceRegistry;
  gate: Gate;
  metrics: TalariaMetrics;
  /** Basic auth for the API; undefined = open (send still needs some Basic header). */
  apiAuth: Authenticator | undefined;
  sendTimeoutMs: number;
  devicesCacheTtlMs: number;
  maxBodyBytes: number;
}

type Format = 'msgpack' | 'json';

/** Content-Type / Accept to WRP format, as wrphttp decides it; undefined = unsupported. */
export function formatOf(value: string | undefined, accept = false): Format | undefined {
  if (value === undefined || value.trim() === '') return 'msgpack';
  const v = value.toLowerCase();
  if (v.includes('json')) return 'json';
  if (v.includes('msgpack')) return 'msgpack';
  if (accept && (v.includes('*/*') || v.includes('application/*'))) return 'msgpack';
  return undefined;
}

const VERSIONS = new Set(['v2', 'v3']);
/** `/device/send` needs some Basic Authorization header even when the API is open. */
const BASIC = /^\s*basic\s+\S/i;
const EMPTY = Buffer.alloc(0);

interface VersionParams {
  version: string;
}

function sendFailure(
  reply: FastifyReply,
  metrics: TalariaMetrics,
  status: number,
  text: string,
): FastifyReply {
  metrics.apiRequestErrors.inc({ code: String(status), error: text });
  return reply
    .code(status)
    .header('x-xmidt-message-error', text)
    .type('application/json')
    .send(JSON.stringify({ code: status, message: `Could not process device request: ${text}` }));
}

export function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { metrics, registry } = deps;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes },
    (_r, body, done) => done(null, body),
  );

  /** Runs API auth; returns false after answering when it fails. */
  async function authorize(
    req: FastifyRequest,
    reply: FastifyReply,
    version: string,
  ): Promise<boolean> {
    if (!deps.apiAuth) return true;
    try {
      await deps.apiAuth.authenticate(req.headers.authorization);
      return true;
    } catch (err) {
      if (!isAuthError(err)) throw err;
      const r = authErrorResponse(err, authProfile(version));
      reply.code(r.status).headers(r.headers).send(r.body);
      return false;
    }
  }

  // A device route request that is not a websocket upgrade (upgrades never reach fastify).
  app.route<{ Params: VersionParams }>({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'],
    url: '/api/:version/device',
    handler: async (req, reply) => {
      if (!VERSIONS.has(req.params.version)) return reply.code(404).send();
      if (!deps.gate.open) return reply.code(503).send();
      const name = req.headers['x-webpa-device-name'];
      const bad = (message: string) =>
        reply
          .code(400)
          .type('application/json')
          .send(JSON.stringify({ code: 400, message }));
      if (typeof name !== 'string' || name === '')
        return bad('failed to extract device ID: missing device name header');
      try {
        parseDeviceId(name);
      } catch {
        return bad('failed to extract device ID: invalid device name');
      }
      if (req.method !== 'GET')
        return reply.code(405).type('text/plain').send('Method Not Allowed');
      return reply.code(400).type('text/plain').send('Bad Request');
    },
  });

  /** Label objects per status code, so a request does not allocate one (a handful of codes). */
  const codeLabels = new Map<number, { code: string }>();
  const observe = (r: FastifyReply, started: bigint): FastifyReply => {
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    let labels = codeLabels.get(r.statusCode);
    if (!labels) {
      labels = { code: String(r.statusCode) };
      if (codeLabels.size < 64) codeLabels.set(r.statusCode, labels);
    }
    metrics.sendDuration.observe(labels, s);
    return r;
  };

  const send = async (
    req: FastifyRequest<{ Params: VersionParams }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    const version = req.params.version;
    if (!VERSIONS.has(version)) return reply.code(404).send();
    const started = process.hrtime.bigint();
    if (deps.apiAuth && !(await authorize(req, reply, version))) return observe(reply, started);
    if (!BASIC.test(req.headers.authorization ?? ''))
      return observe(reply.code(403).send(), started);

    const inFormat = formatOf(req.headers['content-type']);
    const outFormat = formatOf(req.headers.accept, true);
    if (!inFormat || !outFormat) {
      return observe(
        reply.code(400).type('text/plain').send('failed to decode wrp: unsupported content type'),
        started,
      );
    }
    const body = Buffer.isBuffer(req.body) ? req.body : EMPTY;
    let msg: Message;
    try {
      msg =
        inFormat === 'json'
          ? decodeJson(body, { maxBytes: deps.maxBodyBytes })
          : decodeMsgpack(body, { maxBytes: deps.maxBodyBytes });
      validateMessage(msg);
    } catch (err) {
      return observe(
        reply
          .code(400)
          .type('text/plain')
          .send(`failed to decode wrp: ${err instanceof Error ? err.message : String(err)}`),
        started,
      );
    }
    if (isTransactionType(msg.msgType) && !msg.transactionUuid) {
      return observe(
        sendFailure(reply, metrics, 400, 'transaction keys must be non-empty strings'),
        started,
      );
    }
    const frame = inFormat === 'msgpack' ? body : encodeMsgpack(msg);
    try {
      const result = await sendToDevice(registry, msg, frame, deps.sendTimeoutMs);
      if (!result) return observe(reply.code(200).send(), started);
      if (outFormat === 'json') {
        return observe(
          reply.code(200).type('application/json').send(encodeJson(result.msg)),
          started,
        );
      }
      return observe(reply.code(200).type('application/msgpack').send(result.bytes), started);
    } catch (err) {
      if (err instanceof TalariaError) {
        return observe(sendFailure(reply, metrics, httpStatusOf(err.code), err.message), started);
      }
      throw err;
    }
  };
  app.post('/api/:version/device/send', send);
  app.patch('/api/:version/device/send', send);

  let cache: { at: number; body: string } | undefined;
  app.get<{ Params: VersionParams }>('/api/:version/devices', async (req, reply) => {
    if (!VERSIONS.has(req.params.version)) return reply.code(404).send();
    if (!(await authorize(req, reply, req.params.version))) return reply;
    const now = Date.now();
    if (!cache || now - cache.at >= deps.devicesCacheTtlMs) {
      const devices: unknown[] = [];
      for (const c of registry.values()) devices.push(c.toJSON(now));
      cache = { at: now, body: JSON.stringify({ devices }) };
    }
    return reply.type('application/json').send(cache.body);
  });

  app.get<{ Params: VersionParams & { deviceId: string } }>(
    '/api/:version/device/:deviceId/stat',
    async (req, reply) => {
      if (!VERSIONS.has(req.params.version)) return reply.code(404).send();
      let id: string;
      try {
        id = parseDeviceId(req.params.deviceId);
      } catch {
        return reply
          .code(400)
          .type('application/json')
          .send(
            JSON.stringify({
              code: 400,
              message: 'failed to extract device ID: invalid device name',
            }),
          );
      }
      if (!(await authorize(req, reply, req.params.version))) return reply;
      const conn = registry.get(id);
      if (!conn) return reply.code(404).send();
      return reply.type('application/json').send(JSON.stringify(conn.toJSON()));
    },
  );
}
