import type { FastifyInstance } from 'fastify';
import { THEMIS_ERROR_STATUS, ThemisError } from '../errors.js';
import type { SigningKey } from '../signer.js';

export interface AdminRouteDeps {
  rotate(): Promise<SigningKey>;
  published(): SigningKey[];
}

/** `POST /keys/rotate` on the admin listener: a new signing key; the old one stays published. */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  app.post('/keys/rotate', async (_req, reply) => {
    try {
      const key = await deps.rotate();
      return reply.send({
        kid: key.kid,
        alg: key.alg,
        published: deps.published().map((k) => k.kid),
      });
    } catch (err) {
      if (err instanceof ThemisError) {
        return reply
          .code(THEMIS_ERROR_STATUS[err.code])
          .send({ code: err.code, message: err.message });
      }
      throw err;
    }
  });
}
