import { readFileSync } from 'node:fs';
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { DURATION_FORMAT } from './config-schema.js';
import { ConfigError } from './errors.js';

export interface LoadConfigOptions<S extends TSchema> {
  /** Service name; its upper-case form is the env prefix (`talaria` -> `TALARIA_`). */
  service: string;
  schema: S;
  /** YAML file to read (optional). */
  file?: string;
  /** Environment to read overrides from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Merged last, over file and environment (tests, all-in-one start). */
  overrides?: unknown;
  /** Told about environment variables with the service prefix that match no key. */
  onWarning?: (message: string) => void;
}

type Dict = Record<string, unknown>;

interface EnvTarget {
  path: string[];
  schema: TSchema;
}

const MAX_DEPTH = 32;
const MAX_ISSUES = 20;

/**
 * Loads a service configuration: schema defaults, then the YAML file, then environment
 * overrides (`<SERVICE>_A_B` for key `a.b`), then `overrides`. The result is validated
 * against the schema; unknown keys are errors. Throws ConfigError (code `config_invalid`)
 * naming each offending key path.
 */
export function loadConfig<S extends TSchema>(opts: LoadConfigOptions<S>): Static<S> {
  const { schema } = opts;
  const issues: string[] = [];

  let data: unknown = {};
  if (opts.file !== undefined) data = readYaml(opts.file);
  data = normalizeKeys(schema, data, 0);

  const envData = readEnv(opts, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  data = deepMerge(data, envData);

  if (opts.overrides !== undefined) {
    data = deepMerge(data, normalizeKeys(schema, clone(opts.overrides), 0));
  }

  data = materialize(schema, data, 0);
  data = Value.Default(schema, data);

  findUnknownKeys(schema, data, [], issues, 0);
  if (!Value.Check(schema, data)) {
    const seen = new Set<string>();
    for (const err of Value.Errors(schema, data)) {
      const path = pointerToPath(err.path);
      if (seen.has(path)) continue;
      seen.add(path);
      const problem =
        kindOf(err.schema) === 'Union' ? `expected ${describe(err.schema)}` : err.message;
      issues.push(`${path || '(root)'}: ${problem}${describeGot(err.value)}`);
      if (issues.length >= MAX_ISSUES) break;
    }
    if (issues.length === 0) issues.push('(root): does not match the schema');
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return data as Static<S>;
}

/** The environment variable that overrides `path` (dotted key path) for `service`. */
export function envName(service: string, path: string): string {
  return [envPrefix(service), ...path.split('.').map(snakeUpper)].join('_');
}

/** camelCase / kebab-case key segment -> UPPER_SNAKE (`pingPeriod` -> `PING_PERIOD`). */
export function snakeUpper(key: string): string {
  return key
    .replace(/([A-Z]{2,})s(?=[A-Z]|$)/g, '$1S') // plural acronyms: partnerIDs, customPIDs, altURLs
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

function envPrefix(service: string): string {
  return service.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

// ---------------------------------------------------------------------------------------------
// YAML file

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([`cannot read config file ${file}: ${errMessage(cause)}`], { cause });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { merge: true, prettyErrors: true });
  } catch (cause) {
    throw new ConfigError([`cannot parse config file ${file}: ${errMessage(cause)}`], { cause });
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isDict(parsed)) {
    throw new ConfigError([`config file ${file}: top level must be a mapping`]);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Environment

function readEnv<S extends TSchema>(opts: LoadConfigOptions<S>, issues: string[]): Dict {
  const env = opts.env ?? process.env;
  const prefix = envPrefix(opts.service);
  const targets = new Map<string, EnvTarget>();
  collectEnvTargets(opts.schema, [], prefix, targets, 0);

  const out: Dict = {};
  // Deterministic order: sorted names, so a more specific variable can not race a broader one.
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (raw === undefined) continue;
    const upper = name.toUpperCase();
    if (!upper.startsWith(`${prefix}_`)) continue;
    const target = targets.get(upper);
    if (target === undefined) {
      opts.onWarning?.(`environment variable ${name} matches no configuration key`);
      continue;
    }
    const result = coerce(target.schema, raw, 0);
    if (!result.ok) {
      issues.push(`${target.path.join('.')} (from ${name}): ${result.problem}, got ${quote(raw)}`);
      continue;
    }
    setPath(out, target.path, result.value);
  }
  return out;
}

function collectEnvTargets(
  schema: TSchema,
  path: string[],
  name: string,
  out: Map<string, EnvTarget>,
  depth: number,
): void {
  const props = objectProperties(schema);
  if (props !== undefined && depth < MAX_DEPTH) {
    for (const [key, sub] of Object.entries(props)) {
      const childPath = [...path, key];
      const names = new Set([
        `${name}_${snakeUpper(key)}`,
        `${name}_${key.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`,
      ]);
      for (const n of names) collectEnvTargets(sub, childPath, n, out, depth + 1);
    }
    return;
  }
  if (path.length > 0 && !out.has(name)) out.set(name, { path, schema });
}

type Coerced = { ok: true; value: unknown } | { ok: false; problem: string };

/** Turns an environment string into a value of the schema's type. */
function coerce(schema: TSchema, raw: string, depth: number): Coerced {
  const kind = kindOf(schema);
  const trimmed = raw.trim();
  switch (kind) {
    case 'String':
      return checked(schema, raw, 'string');
    case 'Number':
    case 'Integer':
    case 'Boolean':
    case 'Null':
    case 'Literal': {
      if (trimmed === '') return { ok: false, problem: `expected ${describe(schema)}` };
      return checked(schema, Value.Convert(schema, trimmed), describe(schema));
    }
    case 'Array': {
      let items: unknown[];
      if (trimmed.startsWith('[')) {
        const parsed = parseJson(trimmed);
        if (!Array.isArray(parsed)) return { ok: false, problem: 'expected a JSON array' };
        items = parsed;
      } else {
        items = trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
      }
      const itemSchema = (schema as { items?: TSchema }).items;
      if (itemSchema !== undefined && depth < MAX_DEPTH) {
        const converted: unknown[] = [];
        for (const item of items) {
          if (typeof item !== 'string') {
            converted.push(Value.Convert(itemSchema, item));
            continue;
          }
          const r = coerce(itemSchema, item, depth + 1);
          if (!r.ok) return { ok: false, problem: `array item: ${r.problem}` };
          converted.push(r.value);
        }
        items = converted;
      }
      return checked(schema, items, describe(schema));
    }
    case 'Union': {
      const members = (schema as { anyOf?: TSchema[] }).anyOf ?? [];
      if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
        const parsed = parseJson(trimmed);
        if (parsed !== undefined && Value.Check(schema, parsed)) return { ok: true, value: parsed };
      }
      // Prefer numbers and booleans ('30' for a string-or-seconds duration is 30 seconds).
      const scalar = ['Number', 'Integer', 'Boolean'];
      for (const m of members.filter((m) => scalar.includes(kindOf(m)))) {
        const r = coerce(m, raw, depth + 1);
        if (r.ok) return r;
      }
      if (Value.Check(schema, raw)) return { ok: true, value: raw };
      for (const m of members.filter((m) => !scalar.includes(kindOf(m)))) {
        if (depth >= MAX_DEPTH) break;
        const r = coerce(m, raw, depth + 1);
        if (r.ok) return r;
      }
      return { ok: false, problem: `expected ${describe(schema)}` };
    }
    case 'Object':
    case 'Record':
    case 'Unknown':
    case 'Any': {
      if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
        const parsed = parseJson(trimmed);
        if (parsed === undefined) return { ok: false, problem: 'invalid JSON' };
        return checked(schema, parsed, describe(schema));
      }
      return checked(schema, raw, describe(schema));
    }
    default:
      return checked(schema, Value.Convert(schema, raw), describe(schema));
  }
}

function checked(schema: TSchema, value: unknown, what: string): Coerced {
  if (Value.Check(schema, value)) return { ok: true, value };
  const first = Value.Errors(schema, value).First();
  const detail = first?.message;
  if (detail === undefined || detail.toLowerCase() === `expected ${what}`.toLowerCase()) {
    return { ok: false, problem: `expected ${what}` };
  }
  return { ok: false, problem: `expected ${what} (${detail})` };
}

function describe(schema: TSchema): string {
  const kind = kindOf(schema);
  switch (kind) {
    case 'Union':
      return ((schema as { anyOf?: TSchema[] }).anyOf ?? []).map(describe).join(' or ');
    case 'Literal':
      return JSON.stringify((schema as { const?: unknown }).const);
    case 'Record':
      return 'a JSON object';
    case 'Array':
      return 'a list (comma-separated or JSON)';
    case 'String': {
      const format = (schema as { format?: string }).format;
      if (format === DURATION_FORMAT) return 'a duration like "45s" or "1m30s"';
      return format ? `string (${format})` : 'string';
    }
    default:
      return kind.toLowerCase() || 'value';
  }
}

// ---------------------------------------------------------------------------------------------
// Structure walking

/**
 * Renames keys that match a schema property only case-insensitively (`pingperiod` ->
 * `pingPeriod`), as the original's configuration reader ignores key case.
 */
function normalizeKeys(schema: TSchema, value: unknown, depth: number): unknown {
  if (depth >= MAX_DEPTH) return value;
  const kind = kindOf(schema);
  if (kind === 'Array' && Array.isArray(value)) {
    const items = (schema as { items?: TSchema }).items;
    return items ? value.map((v) => normalizeKeys(items, v, depth + 1)) : value;
  }
  const props = objectProperties(schema);
  if (props === undefined || !isDict(value)) return value;
  const byLower = new Map<string, string[]>();
  for (const key of Object.keys(props)) {
    const lower = key.toLowerCase();
    byLower.set(lower, [...(byLower.get(lower) ?? []), key]);
  }
  const out: Dict = {};
  for (const [key, v] of Object.entries(value)) {
    let target = key;
    if (!(key in props)) {
      const candidates = byLower.get(key.toLowerCase());
      if (candidates?.length === 1 && candidates[0] !== undefined && !(candidates[0] in value)) {
        target = candidates[0];
      }
    }
    const sub = props[target];
    out[target] = sub ? normalizeKeys(sub, v, depth + 1) : v;
  }
  return out;
}

/** Creates missing required nested objects so that their property defaults can apply. */
function materialize(schema: TSchema, value: unknown, depth: number): unknown {
  const props = objectProperties(schema);
  if (props === undefined || depth >= MAX_DEPTH) return value;
  if (value === undefined && depth === 0) value = {};
  if (!isDict(value)) return value;
  const required = new Set((schema as { required?: string[] }).required ?? []);
  for (const [key, sub] of Object.entries(props)) {
    const current = value[key];
    if (current === undefined) {
      if (required.has(key) && objectProperties(sub) !== undefined && !('default' in sub)) {
        value[key] = materialize(sub, {}, depth + 1);
      }
    } else {
      value[key] = materialize(sub, current, depth + 1);
    }
  }
  return value;
}

function findUnknownKeys(
  schema: TSchema,
  value: unknown,
  path: string[],
  issues: string[],
  depth: number,
): void {
  if (depth >= MAX_DEPTH || issues.length >= MAX_ISSUES) return;
  const kind = kindOf(schema);
  if (kind === 'Array' && Array.isArray(value)) {
    const items = (schema as { items?: TSchema }).items;
    if (items)
      value.forEach((v, i) => findUnknownKeys(items, v, [...path, `[${i}]`], issues, depth + 1));
    return;
  }
  if (kind === 'Record' && isDict(value)) {
    const pattern = (schema as { patternProperties?: Record<string, TSchema> }).patternProperties;
    const sub = pattern ? Object.values(pattern)[0] : undefined;
    if (sub) {
      for (const [k, v] of Object.entries(value)) {
        findUnknownKeys(sub, v, [...path, k], issues, depth + 1);
      }
    }
    return;
  }
  const props = objectProperties(schema);
  if (props === undefined || !isDict(value)) return;
  const extra = (schema as { additionalProperties?: unknown }).additionalProperties;
  const allowExtra = extra !== undefined && extra !== false;
  for (const [key, v] of Object.entries(value)) {
    const sub = props[key];
    if (sub === undefined) {
      if (!allowExtra) {
        const hint = suggest(key, Object.keys(props));
        issues.push(
          `${joinPath([...path, key])}: unknown key${hint ? ` (did you mean ${hint}?)` : ''}`,
        );
      }
      continue;
    }
    findUnknownKeys(sub, v, [...path, key], issues, depth + 1);
  }
}

function suggest(key: string, known: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const k = norm(key);
  return known.find((c) => norm(c) === k) ?? known.find((c) => editDistance(norm(c), k) <= 2);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function kindOf(schema: TSchema): string {
  const k = (schema as unknown as Record<symbol, unknown>)[Kind];
  return typeof k === 'string' ? k : '';
}

function objectProperties(schema: TSchema): Record<string, TSchema> | undefined {
  if (kindOf(schema) !== 'Object') return undefined;
  return (schema as { properties?: Record<string, TSchema> }).properties;
}

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isDict(base) || !isDict(over)) return over;
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = deepMerge(out[k], v);
  }
  return out;
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isDict(v)) {
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      return v; // class instances (Buffers, ...) are kept as they are
    }
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) out[k] = clone(x);
    return out;
  }
  return v;
}

function setPath(target: Dict, path: string[], value: unknown): void {
  let cur = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    const next = cur[key];
    if (isDict(next)) cur = next;
    else {
      const created: Dict = {};
      cur[key] = created;
      cur = created;
    }
  }
  cur[path[path.length - 1] as string] = value;
}

function pointerToPath(pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return joinPath(parts.map((p) => (/^\d+$/.test(p) ? `[${p}]` : p)));
}

function joinPath(parts: string[]): string {
  return parts.reduce((acc, p) => (p.startsWith('[') || acc === '' ? acc + p : `${acc}.${p}`), '');
}

function describeGot(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return ' (got null)';
  if (Array.isArray(value)) return ' (got array)';
  return ` (got ${typeof value})`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function quote(raw: string): string {
  return JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}...` : raw);
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
