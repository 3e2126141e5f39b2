import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { createTalaria } from '../src/service.js';
import type { Talaria } from '../src/service.js';
import { silent, testConfig } from './helpers.js';

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'] as const;

interface PathItem {
  servers?: unknown[];
  [method: string]: unknown;
}

/** `METHOD /path` of every operation in openapi.yaml, by listener (admin paths name servers). */
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

/**
 * `METHOD /path` of every route a listener serves, read from fastify's own route tree
 * (`printRoutes`), with `:param` written as OpenAPI's `{param}`.
 */
function registered(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    const path = (stack[depth - 1] ?? '') + (m[2] as string);
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(',')) {
      if (method.trim() !== '') out.add(`${method.trim()} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return out;
}

let talaria: Talaria;

before(async () => {
  talaria = createTalaria(testConfig(), { logger: silent });
  await talaria.start();
});
after(() => talaria.stop());

test('every route Talaria registers is documented in openapi.yaml, on its listener', () => {
  const doc = documented();
  const primary = registered(talaria.runtime.primary);
  const admin = registered(talaria.runtime.admin);
  for (const op of ['GET /api/{version}/device', 'POST /api/{version}/device/send'])
    assert.ok(primary.has(op), [...primary].join(', '));
  for (const op of ['GET /health', 'GET /metrics', 'DELETE /api/v3/device/drain'])
    assert.ok(admin.has(op), [...admin].join(', '));
  for (const r of primary) assert.ok(doc.primary.has(r), `${r} undocumented`);
  for (const r of admin) assert.ok(doc.admin.has(r), `${r} (admin) undocumented`);
});

test('every documented operation is routed on its listener', () => {
  const doc = documented();
  for (const [listener, ops] of [
    ['primary', doc.primary],
    ['admin', doc.admin],
  ] as const) {
    const app = talaria.runtime[listener];
    for (const op of ops) {
      const [method, path] = op.split(' ') as [string, string];
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      assert.ok(
        app.hasRoute({ method: method as 'GET', url }),
        `${op} documented but not routed on ${listener}`,
      );
    }
  }
});
