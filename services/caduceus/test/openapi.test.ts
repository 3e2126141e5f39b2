import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RouteOptions } from 'fastify';
import { parse } from 'yaml';
import { createCaduceus } from '../src/service.js';
import { testConfig } from './helpers.js';

// Every route Caduceus registers must be in openapi.yaml (path, method and listener), and every
// operation the document lists must exist, so the two cannot drift apart.

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `/keys/:kid` -> `/keys/{kid}` */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

interface Operation {
  listener: string;
  path: string;
  method: string;
}
const key = (o: Operation) => `${o.listener} ${o.method.toUpperCase()} ${o.path}`;

function documented(file: URL, defaultListener: string): Operation[] {
  const doc = parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const listener = typeof item['x-listener'] === 'string' ? item['x-listener'] : defaultListener;
    for (const method of METHODS) if (item[method]) out.push({ listener, path, method });
  }
  return out;
}

function registered(routes: [string, RouteOptions][]): Operation[] {
  const out: Operation[] = [];
  for (const [listener, r] of routes) {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      const method = m.toLowerCase();
      // fastify adds HEAD beside every GET; OpenAPI leaves HEAD implied
      if (method === 'head' && methods.length === 1 && routes.some(isGetTwin(listener, r))) {
        continue;
      }
      out.push({ listener, path: openApiPath(r.url), method });
    }
  }
  return out;
}

const isGetTwin =
  (listener: string, head: RouteOptions) =>
  ([l, r]: [string, RouteOptions]): boolean =>
    l === listener &&
    r.url === head.url &&
    (Array.isArray(r.method) ? r.method.includes('GET') : r.method === 'GET');

/** The runtime's admin routes, added before a service can observe its listeners. */
const RUNTIME_ADMIN = ['/health', '/ready', '/metrics'].map((path) => ({
  listener: 'admin',
  path,
  method: 'get',
}));

test('every Caduceus route is in openapi.yaml and every documented operation exists', async () => {
  const routes: [string, RouteOptions][] = [];
  const c = createCaduceus(testConfig({ previousVersionSupport: true }), {
    onRoute: (listener, route) => routes.push([listener, route]),
  });
  try {
    await c.start();
    const actual = [...registered(routes), ...RUNTIME_ADMIN];
    assert.ok(actual.length > RUNTIME_ADMIN.length, 'routes were observed');
    const doc = documented(new URL('../openapi.yaml', import.meta.url), 'primary');
    const docKeys = new Set(doc.map(key));
    const missing = actual.map(key).filter((k) => !docKeys.has(k));
    assert.deepEqual(missing, [], 'registered but not documented');
    for (const op of doc) {
      const app = op.listener === 'admin' ? c.runtime.admin : c.runtime.primary;
      const url = op.path.replace(/\{([^}]+)\}/g, ':$1');
      assert.ok(
        app.hasRoute({ method: op.method.toUpperCase() as 'GET', url }),
        `documented but not registered: ${key(op)}`,
      );
    }
  } finally {
    await c.stop();
  }
});
