import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, HTTPMethods, RouteOptions } from 'fastify';
import { parse } from 'yaml';
import type { ThemisListener } from '../src/index.js';
import { startThemis, tempDir } from './helpers.js';

// Every route Themis registers must be in openapi.yaml (path, method and listener), and every
// operation the document lists must exist, so the two cannot drift apart.

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation {
  listener: string;
  path: string;
  method: string;
}
const key = (o: Operation) => `${o.listener} ${o.method.toUpperCase()} ${o.path}`;

/** `/keys/:kid` -> `/keys/{kid}` */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const fastifyPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

function documented(): Operation[] {
  const file = new URL('../openapi.yaml', import.meta.url);
  const doc = parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const listener = typeof item['x-listener'] === 'string' ? item['x-listener'] : 'key';
    for (const method of METHODS) if (item[method]) out.push({ listener, path, method });
  }
  return out;
}

const methodsOf = (r: RouteOptions): string[] => (Array.isArray(r.method) ? r.method : [r.method]);

function registered(routes: [ThemisListener, RouteOptions][]): Operation[] {
  const out: Operation[] = [];
  for (const [listener, r] of routes) {
    for (const m of methodsOf(r)) {
      // fastify adds HEAD beside every GET; OpenAPI leaves HEAD implied
      const getTwin = routes.some(
        ([l, o]) => l === listener && o.url === r.url && methodsOf(o).includes('GET'),
      );
      if (m === 'HEAD' && getTwin) continue;
      out.push({ listener, path: openApiPath(r.url), method: m.toLowerCase() });
    }
  }
  return out;
}

/** The runtime's admin routes, added before a service can observe its listeners. */
const RUNTIME_ADMIN = ['/health', '/ready', '/metrics'].map((path) => ({
  listener: 'admin',
  path,
  method: 'get',
}));

test('every Themis route is in openapi.yaml and every documented operation exists', async () => {
  const tmp = tempDir();
  const routes: [ThemisListener, RouteOptions][] = [];
  const t = await startThemis(
    { token: { key: { directory: tmp.dir } } },
    { onRoute: (listener, route) => routes.push([listener, route]) },
  );
  try {
    const actual = [...registered(routes), ...RUNTIME_ADMIN];
    for (const l of ['key', 'issuer', 'admin']) {
      assert.ok(
        routes.some(([listener]) => listener === l),
        `routes of the ${l} listener were observed`,
      );
    }
    const doc = documented();
    const docKeys = new Set(doc.map(key));
    const missing = actual.map(key).filter((k) => !docKeys.has(k));
    assert.deepEqual(missing, [], 'registered but not documented');
    const apps: Record<string, FastifyInstance | undefined> = {
      key: t.themis.runtime.primary,
      admin: t.themis.runtime.admin,
      issuer: t.themis.issuer,
    };
    for (const op of doc) {
      const app = apps[op.listener];
      assert.ok(app, `unknown listener ${op.listener}`);
      const method = op.method.toUpperCase() as HTTPMethods;
      assert.ok(
        app.hasRoute({ method, url: fastifyPath(op.path) }),
        `documented but not registered: ${key(op)}`,
      );
    }
    // the issue route answers as documented
    const res = await fetch(`http://127.0.0.1:${t.ports.issuerPort}/issue`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/jose');
  } finally {
    await t.stop();
    tmp.remove();
  }
});
