import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RouteOptions } from 'fastify';
import { request } from 'undici';
import { parse } from 'yaml';
import { createScytale } from '../src/service.js';
import type { Scytale } from '../src/service.js';
import { scytaleConfig } from './setup.js';

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'];

interface PathItem {
  servers?: unknown[];
  [method: string]: unknown;
}

/** `METHOD /path` of every operation in openapi.yaml, split by listener (path-level servers). */
function documented(): { primary: Set<string>; admin: Set<string> } {
  const doc = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
    paths: Record<string, PathItem>;
  };
  const primary = new Set<string>();
  const admin = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      if (item[m] !== undefined) (item.servers ? admin : primary).add(`${m.toUpperCase()} ${path}`);
    }
  }
  return { primary, admin };
}

/** fastify's `/api/:version/device` as OpenAPI's `/api/{version}/device`. */
const openapiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');

describe('scytale openapi.yaml documents every route', () => {
  let scytale: Scytale;
  let admin: string;
  const routes = new Set<string>();

  before(async () => {
    scytale = createScytale(scytaleConfig({}, { auth: { basic: ['a:b'] } }));
    const collect = (r: RouteOptions) => {
      for (const m of [r.method].flat()) routes.add(`${m} ${openapiPath(r.url)}`);
    };
    scytale.runtime.primary.addHook('onRoute', collect);
    scytale.runtime.admin.addHook('onRoute', collect);
    const ports = await scytale.start();
    admin = `http://127.0.0.1:${ports.adminPort}`;
  });
  after(async () => {
    await scytale?.stop();
  });

  it('every registered route is in the document, and every primary operation is routed', () => {
    const doc = documented();
    assert.ok(routes.size >= 3, `routes seen: ${[...routes].join(', ')}`);
    for (const r of routes) assert.ok(doc.primary.has(r) || doc.admin.has(r), `${r} undocumented`);
    for (const op of doc.primary) assert.ok(routes.has(op), `${op} documented but not routed`);
  });

  it('the documented admin routes answer on the admin listener', async () => {
    const { admin: ops } = documented();
    assert.ok(ops.size > 0);
    for (const op of ops) {
      const [method, path] = op.split(' ') as [string, string];
      const res = await request(`${admin}${path}`, { method });
      await res.body.dump();
      assert.ok(res.statusCode === 200 || res.statusCode === 503, `${op}: ${res.statusCode}`);
    }
  });
});
