import type { FastifyInstance, FastifyReply } from 'fastify';
import type { KeyStore } from '../key-store.js';
import type { SigningKey } from '../signer.js';

export const PEM_CONTENT_TYPE = 'application/x-pem-file';

/** The public half of a key as a JWK with kid, alg and use (the original's JWK had none). */
export function publicJwk(key: SigningKey): Record<string, unknown> {
  const jwk = key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { ...jwk, kid: key.kid, alg: key.alg, use: 'sig' };
}

export function publicPem(key: SigningKey): string {
  return key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Key server routes: `GET /keys/{kid}` (PEM, or JWK with `Accept: application/json`),
 * `/keys/{kid}/key.pem`, `/keys/{kid}/key.json`, and a JWK set at `/.well-known/jwks.json`
 * (also `/keys`). Unknown kid: 404 `No key exists with kid <kid>`.
 */
export function registerKeyRoutes(app: FastifyInstance, store: KeyStore): void {
  const notFound = (reply: FastifyReply, kid: string) =>
    reply.code(404).type('text/plain; charset=utf-8').send(`No key exists with kid ${kid}`);
  const pem = (reply: FastifyReply, key: SigningKey) =>
    reply.type(PEM_CONTENT_TYPE).send(publicPem(key));
  const json = (reply: FastifyReply, key: SigningKey) =>
    reply
      .header('content-type', 'application/json')
      .send(Buffer.from(JSON.stringify(publicJwk(key), null, 2)));

  app.get<{ Params: { kid: string } }>('/keys/:kid', async (req, reply) => {
    const key = store.get(req.params.kid);
    if (!key) return notFound(reply, req.params.kid);
    // the original matched Accept exactly
    if (req.headers.accept === 'application/json') return json(reply, key);
    return pem(reply, key);
  });
  app.get<{ Params: { kid: string } }>('/keys/:kid/key.pem', async (req, reply) => {
    const key = store.get(req.params.kid);
    return key ? pem(reply, key) : notFound(reply, req.params.kid);
  });
  app.get<{ Params: { kid: string } }>('/keys/:kid/key.json', async (req, reply) => {
    const key = store.get(req.params.kid);
    return key ? json(reply, key) : notFound(reply, req.params.kid);
  });
  const jwks = async (_req: unknown, reply: FastifyReply) =>
    reply
      .type('application/jwk-set+json')
      .header('cache-control', 'max-age=60')
      .send(JSON.stringify({ keys: store.published().map(publicJwk) }));
  app.get('/.well-known/jwks.json', jwks);
  app.get('/keys', jwks);
}
