import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { XmidtError } from './errors.js';

/** The common error body of the original's HTTP APIs: `{"code": N, "message": "..."}`. */
export interface ErrorBody {
  code: number;
  message: string;
}

/** Sends `{"code": code ?? status, "message": message}` with the given status. */
export function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  code?: number,
): FastifyReply {
  const body: ErrorBody = { code: code ?? status, message };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** One table per HTTP edge: error `code` string -> HTTP status. */
export type ErrorStatusTable = Readonly<Record<string, number>>;

/**
 * The HTTP status for an error: an XmidtError's code looked up in `table`; a fastify error's
 * own `statusCode` (400 bad body, 413 too large, 415 ...); otherwise `fallback` (500).
 */
export function statusForError(err: unknown, table: ErrorStatusTable = {}, fallback = 500): number {
  if (err instanceof XmidtError) {
    const status = table[err.code];
    if (status !== undefined) return status;
  }
  const statusCode = (err as Partial<FastifyError> | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode <= 599) return statusCode;
  return fallback;
}

/**
 * A fastify error handler answering `{"code": N, "message": "..."}`, with the status from
 * statusForError(err, table). 5xx answers say only `Internal Server Error` and are logged.
 */
export function createErrorHandler(
  table: ErrorStatusTable = {},
): (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (err, request, reply) => {
    const status = statusForError(err, table);
    if (status >= 500) {
      request.log.error({ err, method: request.method, url: request.url }, 'request failed');
    }
    return sendError(reply, status, status >= 500 ? 'Internal Server Error' : err.message);
  };
}
