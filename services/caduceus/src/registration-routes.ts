import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allowedPartnersOf, type Authenticator, type Principal } from '@xmidt/auth';
import { replyAuthError } from './auth-status.js';
import type { UrlGuard } from './ssrf-guard.js';
import type { WebhookStore } from './store.js';
import {
  applyDefaults,
  decodeWebhook,
  fixV2Duration,
  goJson,
  validateWebhook,
  webhookId,
  webhookToJson,
  WebhookError,
  type StoredWebhook,
  type TtlPolicy,
} from './webhook.js';

export interface RegistrationRouteDeps {
  authenticator: Authenticator | undefined;
  store: WebhookStore;
  guard: UrlGuard;
  /** The lenient guard of /api/v2/hook. */
  guardV2: UrlGuard;
  ttl: TtlPolicy;
  disablePartnerIDs: boolean;
  maxRegistrations: number;
  maxBodyBytes: number;
  previousVersionSupport: boolean;
}

/** JWT capability that may replace or delete anybody's registration (as in Argus). */
export const ADMIN_CAPABILITY = 'xmidt:svc:admin';

const JSON_TYPE = 'application/json';
const principals = new WeakMap<FastifyRequest, Principal | undefined>();

function message(reply: FastifyReply, status: number, text: string) {
  return reply
    .code(status)
    .type(JSON_TYPE)
    .send(Buffer.from(`${goJson({ message: text })}\n`));
}

function success(reply: FastifyReply) {
  return reply.code(200).type(JSON_TYPE).send(Buffer.from('{"message": "Success"}'));
}

/** `X-Xmidt-Partner-Ids`: comma separated, trimmed, every header line. */
export function partnerIdsFromHeader(req: FastifyRequest): string[] {
  const raw = req.raw.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'x-xmidt-partner-ids') continue;
    for (const p of (raw[i + 1] as string).split(',')) {
      const t = p.trim();
      if (t !== '' && out.length < 100) out.push(t);
    }
  }
  return out;
}

/**
 * The registrant's partner ids, as ancla takes them: Basic (or no auth) from the
 * `X-Xmidt-Partner-Ids` header, a JWT from its `allowedResources.allowedPartners` claim only
 * (a device token's `partner-id` does not count).
 */
function registrantPartnerIds(req: FastifyRequest, principal: Principal | undefined): string[] {
  if (!principal || principal.kind === 'basic') return partnerIdsFromHeader(req);
  const allowed = allowedPartnersOf(principal.claims);
  if (!allowed) {
    throw new WebhookError(
      'webhook_partners',
      'failed getting partnerIDs: partnerIDs do not exist',
    );
  }
  return allowed.slice(0, 100);
}

function isAdmin(p: Principal | undefined): boolean {
  return p?.kind === 'jwt' && p.capabilities.includes(ADMIN_CAPABILITY);
}

function remoteAddress(req: FastifyRequest): string {
  const s = req.raw.socket;
  const ip = s.remoteAddress ?? '';
  return ip.includes(':') ? `[${ip}]:${s.remotePort ?? 0}` : `${ip}:${s.remotePort ?? 0}`;
}

/**
 * Webhook registration: `POST /api/v3/hook`, `POST /api/v2/hook` (lenient lifetimes),
 * `GET /api/v3/hooks` (also `/api/v2/hooks`), and `DELETE /api/v3/hook` (ours).
 */
export function registerRegistrationRoutes(app: FastifyInstance, deps: RegistrationRouteDeps) {
  const { store } = deps;

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes },
      (_req, body, done) => done(null, body),
    );
    scope.setErrorHandler((err: { code?: string; statusCode?: number }, _req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return message(reply, 413, 'request body too large');
      }
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return message(reply, 400, 'failed to read request body');
      }
      return message(reply, 500, 'internal error');
    });
    scope.addHook('onRequest', async (req, reply) => {
      if (!deps.authenticator) return undefined;
      try {
        principals.set(req, await deps.authenticator.authenticate(req.headers.authorization));
      } catch (err) {
        return replyAuthError(reply, err, 'caduceus-v4');
      }
      return undefined;
    });

    const add = (v2: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
      const principal = principals.get(req);
      const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
      const now = Date.now();
      let stored: StoredWebhook;
      try {
        const w = decodeWebhook(body);
        if (v2) {
          const warning = fixV2Duration(w, deps.ttl, now);
          if (warning) reply.header('x-xmidt-warning', warning);
        }
        try {
          await validateWebhook(w, v2 ? deps.guardV2 : deps.guard, deps.ttl, now);
        } catch (err) {
          if (err instanceof WebhookError) {
            return message(reply, 400, `failed webhook validation: ${err.message}`);
          }
          throw err;
        }
        const partnerIds = deps.disablePartnerIDs ? [] : registrantPartnerIds(req, principal);
        applyDefaults(w, remoteAddress(req), now);
        stored = {
          id: webhookId(w.config.url),
          partnerIds,
          owner: principal?.subject ?? '',
          webhook: w,
        };
      } catch (err) {
        if (err instanceof WebhookError) return message(reply, 400, err.message);
        throw err;
      }
      const existing = store.get(stored.id);
      if (
        existing &&
        existing.owner !== '' &&
        existing.owner !== stored.owner &&
        !isAdmin(principal)
      ) {
        return message(reply, 403, 'failed to add webhook to registry: resource owner mismatch');
      }
      try {
        if (stored.webhook.untilMs <= now) {
          // an `until` in the past asks for the registration to go away
          await store.delete(stored.id);
          return success(reply);
        }
        if (!existing && store.size() >= deps.maxRegistrations) {
          return message(reply, 400, 'failed to add webhook to registry: too many webhooks');
        }
        await store.put(stored);
      } catch (err) {
        req.log.error({ err }, 'cannot store webhook');
        return message(reply, 500, `failed to add webhook to registry: ${(err as Error).message}`);
      }
      return success(reply);
    };

    const list = async (_req: FastifyRequest, reply: FastifyReply) => {
      const hooks = store.list().map((s) => webhookToJson(s.webhook, '<obfuscated>'));
      return reply
        .code(200)
        .type(JSON_TYPE)
        .send(Buffer.from(goJson(hooks)));
    };

    const remove = async (req: FastifyRequest, reply: FastifyReply) => {
      const principal = principals.get(req);
      let url = (req.query as Record<string, unknown> | undefined)?.['url'];
      const body = req.body as Buffer | undefined;
      if (typeof url !== 'string' && body && body.length > 0) {
        try {
          url = decodeWebhook(body).config.url;
        } catch (err) {
          if (err instanceof WebhookError) return message(reply, 400, err.message);
          throw err;
        }
      }
      if (typeof url !== 'string' || url === '') {
        return message(reply, 400, 'the webhook URL is missing (config.url or ?url=)');
      }
      const id = webhookId(url);
      const existing = store.get(id);
      if (!existing) return message(reply, 404, 'webhook not found');
      if (
        existing.owner !== '' &&
        existing.owner !== (principal?.subject ?? '') &&
        !isAdmin(principal)
      ) {
        return message(reply, 403, 'failed to delete webhook: resource owner mismatch');
      }
      try {
        await store.delete(id);
      } catch (err) {
        req.log.error({ err }, 'cannot delete webhook');
        return message(reply, 500, `failed to delete webhook: ${(err as Error).message}`);
      }
      return success(reply);
    };

    scope.post('/api/v3/hook', add(false));
    scope.get('/api/v3/hooks', list);
    scope.delete('/api/v3/hook', remove);
    if (deps.previousVersionSupport) {
      scope.post('/api/v2/hook', add(true));
      scope.get('/api/v2/hooks', list);
    }
  });
}
