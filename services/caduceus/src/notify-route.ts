import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Authenticator } from '@xmidt/auth';
import { decodeMsgpack, MessageType, WrpError, type Message } from '@xmidt/wrp';
import { replyAuthError } from './auth-status.js';
import type { Intake } from './intake.js';
import type { CaduceusMetrics } from './metrics.js';
import { OutboundEvent } from './outbound-event.js';

export interface NotifyRouteDeps {
  authenticator: Authenticator | undefined;
  intake: Intake;
  metrics: CaduceusMetrics;
  maxBodyBytes: number;
  /** Also serve `/api/v3/notify`. */
  previousVersionSupport: boolean;
  /** Partner ids given to events without any (unless partner checks are off). */
  customPIDs: readonly string[];
  disablePartnerIDs: boolean;
}

const MSGPACK = 'application/msgpack';
const TEXT = 'text/plain; charset=utf-8';

/** What the end of a notify request needs to know; it rides on the request and response. */
interface IntakeState {
  slot: boolean;
  handed: boolean;
  event: string;
  started: number;
  /** Called once the response is closed (the slot and the latency metric). */
  closed: (state: IntakeState) => void;
}

const STATE = Symbol('caduceus.intake');
type WithState = { [STATE]?: IntakeState };

/** The one `close` listener of every notify response (no closure per request). */
function onResponseClose(this: WithState): void {
  const state = this[STATE];
  if (state) state.closed(state);
}

function text(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).type(TEXT).header('x-content-type-options', 'nosniff').send(body);
}

/**
 * The Content-Type of the request when it carries exactly one such line, else undefined (Node
 * keeps only the first in `headers`, so the raw lines are counted).
 */
function soleContentType(req: FastifyRequest): string | undefined {
  const raw = req.raw.rawHeaders;
  let found: string | undefined;
  let n = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 12 && name.toLowerCase() === 'content-type') {
      found = raw[i + 1] as string;
      n++;
    }
  }
  return n === 1 ? found : undefined;
}

/** The decoder checks every string as it reads it; its UTF-8 failures get their own text. */
function isUtf8Error(err: unknown): boolean {
  return err instanceof WrpError && /UTF-8/.test(err.message);
}

/**
 * `POST /api/v4/notify` (and `/api/v3/notify`): auth, exactly one `Content-Type:
 * application/msgpack` (415), the bounded intake (503), body (400 / 413), WRP decode (400),
 * SimpleEvent only (400), UTF-8 (400), the fixes, then 202 and asynchronous fan-out.
 */
export function registerNotifyRoutes(app: FastifyInstance, deps: NotifyRouteDeps): void {
  const { intake, metrics } = deps;
  // labelled children per event type, so a request does not hash its labels (bounded)
  const byEvent = new Map<
    string,
    { latency: { observe(v: number): void }; count: { inc(): void } }
  >();
  const forEvent = (event: string) => {
    let c = byEvent.get(event);
    if (!c) {
      if (byEvent.size >= 1000) byEvent.clear();
      c = {
        latency: metrics.incomingLatency.labels({ event }),
        count: metrics.incomingEventType.labels({ event }),
      };
      byEvent.set(event, c);
    }
    return c;
  };

  const closed = (state: IntakeState) => {
    if (state.slot && !state.handed) intake.release();
    forEvent(state.event).latency.observe((performance.now() - state.started) / 1000);
  };

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes },
      (_req, body, done) => done(null, body),
    );
    scope.setErrorHandler((err: { code?: string; statusCode?: number }, _req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        return text(reply, 413, 'Payload too large.\n');
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        metrics.errorRequestBody.inc();
        return reply.code(400).send();
      }
      return reply.code(555).send();
    });

    const versions = deps.previousVersionSupport ? ['v4', 'v3'] : ['v4'];
    for (const version of versions) {
      const url = `/api/${version}/notify`;
      const v4 = version === 'v4';
      // after auth: exactly one Content-Type: application/msgpack, then a slot of the intake
      const admit = (req: FastifyRequest, reply: FastifyReply, state: IntakeState): boolean => {
        if (soleContentType(req) !== MSGPACK) {
          text(reply, 415, 'Invalid Content-Type header(s). Expected application/msgpack. \n');
          return false;
        }
        if (!intake.reserve()) {
          metrics.incomingQueueFull.inc();
          text(reply, 503, 'Incoming queue is full.\n');
          return false;
        }
        state.slot = true;
        return true;
      };
      scope.route({
        method: 'POST',
        url,
        // callback style: without an authenticator no promise is made per request
        onRequest: (req, reply, done) => {
          const state: IntakeState = {
            slot: false,
            handed: false,
            event: 'unknown',
            started: performance.now(),
            closed,
          };
          (req as WithState)[STATE] = state;
          (reply.raw as WithState)[STATE] = state;
          reply.raw.on('close', onResponseClose);
          const auth = deps.authenticator;
          if (!auth) {
            if (admit(req, reply, state)) done();
            return;
          }
          auth.authenticate(req.headers.authorization).then(
            () => {
              if (admit(req, reply, state)) done();
            },
            (err: unknown) => {
              try {
                replyAuthError(reply, err, v4 ? 'caduceus-v4' : 'caduceus-v3');
              } catch (e) {
                done(e as Error);
              }
            },
          );
        },
        handler: (req, reply) => {
          const state = (req as WithState)[STATE] as IntakeState;
          const body = req.body as Buffer | undefined;
          if (!body || body.length === 0) {
            metrics.emptyRequestBody.inc();
            text(reply, 400, 'Empty payload.\n');
            return;
          }
          let msg: Message;
          try {
            msg = decodeMsgpack(body, { maxBytes: deps.maxBodyBytes });
          } catch (err) {
            metrics.invalidPayload.inc();
            if (isUtf8Error(err)) text(reply, 400, 'Strings must be UTF-8.\n');
            else text(reply, 400, 'Invalid payload format.\n');
            return;
          }
          if (msg.msgType !== MessageType.SimpleEvent) {
            metrics.invalidPayload.inc();
            text(reply, 400, 'Invalid MessageType.\n');
            return;
          }
          const noType = !msg.contentType;
          const noUuid = !msg.transactionUuid;
          if (noType) msg.contentType = 'application/json';
          if (noUuid) msg.transactionUuid = randomUUID();
          if (noType || noUuid) {
            const reason =
              noType && noUuid
                ? 'empty_uuid_and_content_type'
                : noType
                  ? 'empty_content_type'
                  : 'empty_uuid';
            metrics.modifiedWrp.inc({ reason });
          }
          if (!deps.disablePartnerIDs && (!msg.partnerIds || msg.partnerIds.length === 0)) {
            if (deps.customPIDs.length > 0) msg.partnerIds = [...deps.customPIDs];
          }
          const ev = new OutboundEvent(msg);
          state.event = ev.eventType;
          forEvent(ev.eventType).count.inc();
          state.handed = true;
          intake.push(ev);
          text(reply, 202, 'Request placed on to queue.\n');
        },
      });
      scope.route({
        method: ['GET', 'PUT', 'DELETE', 'PATCH'],
        url,
        handler: async (_req, reply) =>
          text(reply.header('allow', 'POST'), 405, 'Method Not Allowed\n'),
      });
    }
  });
}
