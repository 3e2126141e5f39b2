import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { parse } from 'yaml';

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'] as const;

/** `METHOD /path` (OpenAPI path syntax) of each operation, by listener name. */
export type OperationsByListener = Map<string, Set<string>>;

/**
 * The operations an OpenAPI document lists, by listener: a path item names its listener in
 * `x-listener`; without it, a path with its own `servers` is on `admin`, any other on
 * `defaultListener`.
 */
export function documentedOperations(file: URL, defaultListener = 'primary'): OperationsByListener {
  const doc = parse(readFileSync(file, 'utf8')) as { paths?: Record<string, unknown> };
  const out: OperationsByListener = new Map();
  for (const [path, raw] of Object.entries(doc.paths ?? {})) {
    const item = raw as Record<string, unknown>;
    const xListener = item['x-listener'];
    const listener =
      typeof xListener === 'string' ? xListener : item['servers'] ? 'admin' : defaultListener;
    let set = out.get(listener);
    if (!set) out.set(listener, (set = new Set()));
    for (const m of METHODS) if (item[m] !== undefined) set.add(`${m.toUpperCase()} ${path}`);
  }
  return out;
}

/**
 * `METHOD /path` of every route a fastify instance serves, read from its own route tree
 * (`printRoutes`), so routes added before any hook could observe them count too.
 */
export function routedOperations(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    const path = (stack[depth - 1] ?? '') + (m[2] ?? '');
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(',')) {
      if (method.trim() !== '') out.add(`${method.trim()} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return out;
}

/** HEAD beside a GET of the same path is implied (fastify adds it; documents may omit it). */
function withoutImpliedHead(ops: ReadonlySet<string>): Set<string> {
  return new Set(
    [...ops].filter((op) => !(op.startsWith('HEAD ') && ops.has(`GET ${op.slice(5)}`))),
  );
}

/**
 * Asserts that every route each listener serves is documented on that listener, and that
 * every documented operation of these listeners is routed, so document and code cannot drift.
 */
export function assertDocumented(
  file: URL,
  listeners: Readonly<Record<string, FastifyInstance>>,
  defaultListener = 'primary',
): void {
  const doc = documentedOperations(file, defaultListener);
  for (const [name, app] of Object.entries(listeners)) {
    const documented = withoutImpliedHead(doc.get(name) ?? new Set());
    const routed = withoutImpliedHead(routedOperations(app));
    assert.ok(routed.size > 0, `no routes seen on the ${name} listener`);
    const undocumented = [...routed].filter((op) => !documented.has(op));
    assert.deepEqual(undocumented, [], `routed on ${name} but not documented`);
    const unrouted = [...documented].filter((op) => {
      const [method, path] = op.split(' ') as [HTTPMethods, string];
      return !app.hasRoute({ method, url: path.replace(/\{(\w+)\}/g, ':$1') });
    });
    assert.deepEqual(unrouted, [], `documented on ${name} but not routed`);
  }
}

/**
 * Calls every operation the document lists on `listener` (path parameters left as written)
 * at `base` over real HTTP and asserts each answers with one of `statuses`.
 */
export async function assertOperationsAnswer(
  file: URL,
  listener: string,
  base: string,
  statuses: readonly number[],
  defaultListener = 'primary',
): Promise<void> {
  const ops = documentedOperations(file, defaultListener).get(listener) ?? new Set<string>();
  assert.ok(ops.size > 0, `no operations documented on the ${listener} listener`);
  for (const op of ops) {
    const [method, path] = op.split(' ') as [string, string];
    const res = await fetch(`${base}${path}`, { method });
    await res.arrayBuffer();
    assert.ok(statuses.includes(res.status), `${op}: ${res.status}`);
  }
}
