import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDuration } from '@xmidt/runtime';
import type { Drainer, DrainRequest } from '../drain.js';
import { TalariaError } from '../errors.js';
import type { Gate } from '../gate.js';

export interface ControlDeps {
  gate: Gate;
  drainer: Drainer;
}

const PREFIX = '/api/v3/device';

/** Go's strconv.ParseBool. */
export function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

function jsonError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(JSON.stringify({ code: status, message }));
}

function bodyObject(req: FastifyRequest): Record<string, unknown> | undefined {
  const body = req.body;
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  const ct = req.headers['content-type'] ?? '';
  if (ct.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  }
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function filterFrom(
  obj: Record<string, unknown> | undefined,
): { key: string; values: string[] } | undefined | 'invalid' {
  if (!obj) return undefined;
  const key = obj.key;
  const values = obj.values;
  if (typeof key !== 'string' || key === '') return 'invalid';
  if (!Array.isArray(values) || values.length === 0) return 'invalid';
  return { key, values: values.map((v) => String(v)) };
}

/** Gate, gate filter and drain routes (on the admin listener). */
export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const { gate, drainer } = deps;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_r, body, done) =>
    done(null, body),
  );

  app.get(`${PREFIX}/gate`, async (_req, reply) => reply.send(gate.state()));
  const setGate = async (
    req: FastifyRequest<{ Querystring: Record<string, string | undefined> }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    const raw = req.query.open ?? bodyObject(req)?.open;
    const open = typeof raw === 'string' ? parseBool(raw) : undefined;
    if (open === undefined) return jsonError(reply, 400, 'missing or invalid "open" parameter');
    const changed = gate.setOpen(open);
    return reply.code(changed ? 201 : 200).send(gate.state());
  };
  app.post(`${PREFIX}/gate`, setGate);
  app.put(`${PREFIX}/gate`, setGate);
  app.patch(`${PREFIX}/gate`, setGate);

  app.get(`${PREFIX}/gate/filter`, async (_req, reply) => reply.send(gate.filtersJSON()));
  const setFilter = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const f = filterFrom(bodyObject(req) ?? {});
    if (f === undefined || f === 'invalid')
      return jsonError(reply, 400, 'missing filter key or values');
    const created = gate.setFilter(f.key, f.values);
    return reply.code(created ? 201 : 200).send(gate.filtersJSON());
  };
  app.post(`${PREFIX}/gate/filter`, setFilter);
  app.put(`${PREFIX}/gate/filter`, setFilter);
  app.delete(`${PREFIX}/gate/filter`, async (req, reply) => {
    const key = bodyObject(req)?.key;
    if (typeof key !== 'string' || key === '') return jsonError(reply, 400, 'missing filter key');
    gate.deleteFilter(key);
    return reply.code(200).send(gate.filtersJSON());
  });

  app.get(`${PREFIX}/drain`, async (_req, reply) => reply.send(drainer.status()));
  const startDrain = async (
    req: FastifyRequest<{ Querystring: Record<string, string | undefined> }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    const body = bodyObject(req);
    const form = req.headers['content-type']?.includes('x-www-form-urlencoded') ? body : undefined;
    const param = (k: string): string | undefined => {
      const v = req.query[k] ?? form?.[k];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const num = (k: string): number | undefined | 'invalid' => {
      const v = param(k);
      if (v === undefined) return undefined;
      const n = Number(v);
      return Number.isFinite(n) ? n : 'invalid';
    };
    const request: DrainRequest = {};
    for (const k of ['count', 'percent', 'rate'] as const) {
      const n = num(k);
      if (n === 'invalid') return jsonError(reply, 400, `invalid ${k}`);
      if (n !== undefined) request[k] = n;
    }
    const tick = param('tick');
    if (tick !== undefined) {
      try {
        request.tickMs = parseDuration(tick);
      } catch {
        return jsonError(reply, 400, 'invalid tick');
      }
    }
    const filter = form ? undefined : filterFrom(body);
    if (filter === 'invalid') return jsonError(reply, 400, 'invalid drain filter');
    if (filter) request.filter = filter;
    try {
      return reply.code(200).send(drainer.start(request));
    } catch (err) {
      if (err instanceof TalariaError) return jsonError(reply, 409, err.message);
      throw err;
    }
  };
  app.post(`${PREFIX}/drain`, startDrain);
  app.put(`${PREFIX}/drain`, startDrain);
  app.patch(`${PREFIX}/drain`, startDrain);
  app.delete(`${PREFIX}/drain`, async (_req, reply) => {
    try {
      await drainer.cancel();
      return reply.code(200).send(drainer.status());
    } catch (err) {
      if (err instanceof TalariaError) return jsonError(reply, 409, err.message);
      throw err;
    }
  });
}
