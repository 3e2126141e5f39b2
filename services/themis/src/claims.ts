import { randomBase64Url } from './random-pool.js';
import { cleanPartnerId } from '@xmidt/auth';
import { ThemisError } from './errors.js';
import type { TrustResult } from './trust.js';

/** One `token.claims` entry: an HTTP source (header and/or parameter) or a static one (value/json). */
export interface ClaimEntry {
  key: string;
  header?: string;
  parameter?: string;
  value?: unknown;
  /** A JSON object text (keeps key case and nesting). Wins over `value`. */
  json?: string;
}

export interface PartnerIdConfig {
  /** Claim name, e.g. `partner-id`; '' = no claim. */
  claim: string;
  header?: string;
  parameter?: string;
  /** Used verbatim when the request gives no partner id; '' = no claim. */
  default?: string;
}

export interface ClaimsOptions {
  claims: readonly ClaimEntry[];
  partnerID?: PartnerIdConfig;
  /** Emit `jti` (16 random bytes, base64url). */
  nonce: boolean;
  disableTime: boolean;
  /** exp = iat + durationMs (ms); 0 = no exp. */
  durationMs: number;
  disableNotBefore: boolean;
  /** nbf = iat + notBeforeDeltaMs (usually negative). */
  notBeforeDeltaMs: number;
}

/** What the claims pipeline reads from a request. */
export interface ClaimsRequest {
  /** First value of a request header (case-insensitive name). */
  header(name: string): string | undefined;
  /** First value of a query parameter. */
  parameter(name: string): string | undefined;
  /** Client certificate evaluation (undefined: trust claim not written). */
  trust?: TrustResult;
}

interface CompiledEntry {
  key: string;
  header?: string;
  parameter?: string;
  staticValue?: unknown;
  isStatic: boolean;
}

/** Longest header/parameter value copied into a claim. */
const MAX_VALUE_LENGTH = 1024;

function compile(entry: ClaimEntry, index: number): CompiledEntry {
  const http = entry.header !== undefined || entry.parameter !== undefined;
  const stat = entry.value !== undefined || entry.json !== undefined;
  if (!entry.key) throw new TypeError(`token.claims[${index}]: key is required`);
  if (http === stat) {
    throw new TypeError(
      `token.claims[${index}] (${entry.key}): give header/parameter or value/json, not both or neither`,
    );
  }
  if (!stat) {
    const c: CompiledEntry = { key: entry.key, isStatic: false };
    if (entry.header !== undefined) c.header = entry.header.toLowerCase();
    if (entry.parameter !== undefined) c.parameter = entry.parameter;
    return c;
  }
  let staticValue: unknown = entry.value;
  if (entry.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(entry.json);
    } catch {
      throw new TypeError(`token.claims[${index}] (${entry.key}): json is not valid JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new TypeError(`token.claims[${index}] (${entry.key}): json must be a JSON object`);
    }
    staticValue = parsed;
  }
  return { key: entry.key, isStatic: true, staticValue };
}

function bounded(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v.length > MAX_VALUE_LENGTH ? v.slice(0, MAX_VALUE_LENGTH) : v;
}

/**
 * The original's claim pipeline, in its order (later writers win): request claims from headers
 * or query parameters, the partner id, static claims, `jti`, `iat`/`exp`/`nbf`, `trust`.
 */
export class ClaimsBuilder {
  readonly #http: CompiledEntry[];
  readonly #static: CompiledEntry[];
  readonly #opts: ClaimsOptions;

  constructor(opts: ClaimsOptions) {
    const compiled = opts.claims.map(compile);
    this.#http = compiled.filter((c) => !c.isStatic);
    this.#static = compiled.filter((c) => c.isStatic);
    this.#opts = opts;
  }

  /** Throws ThemisError('invalid_partner_id') for a partner id with no usable piece (400). */
  build(req: ClaimsRequest, nowMs = Date.now()): Record<string, unknown> {
    const claims: Record<string, unknown> = {};
    // 1. request claims: header first, then parameter; values are strings
    for (const e of this.#http) {
      let v = e.header !== undefined ? req.header(e.header) : undefined;
      if (v === undefined && e.parameter !== undefined) v = req.parameter(e.parameter);
      v = bounded(v);
      if (v !== undefined) claims[e.key] = v;
    }
    // ... partner id (a request builder in the original, so before static claims)
    const pid = this.#opts.partnerID;
    if (pid) {
      let raw = pid.header !== undefined ? req.header(pid.header.toLowerCase()) : undefined;
      if ((raw === undefined || raw === '') && pid.parameter !== undefined)
        raw = req.parameter(pid.parameter);
      let value: string | undefined;
      if (raw !== undefined && raw !== '') {
        value = cleanPartnerId(bounded(raw) ?? '');
        if (value === undefined) throw new ThemisError('invalid_partner_id', 'invalid partner id');
      } else {
        value = pid.default;
      }
      if (value && pid.claim) claims[pid.claim] = value;
    }
    // 2. static claims beat request claims
    for (const e of this.#static) {
      const v = e.staticValue;
      claims[e.key] = typeof v === 'object' && v !== null ? structuredClone(v) : v;
    }
    // 3. nonce
    if (this.#opts.nonce) claims['jti'] = randomBase64Url(16);
    // 4. time
    if (!this.#opts.disableTime) {
      const now = Math.floor(nowMs / 1000);
      claims['iat'] = now;
      if (this.#opts.durationMs > 0) claims['exp'] = now + Math.floor(this.#opts.durationMs / 1000);
      if (!this.#opts.disableNotBefore)
        claims['nbf'] = now + Math.trunc(this.#opts.notBeforeDeltaMs / 1000);
    }
    // 5. trust (always overwrites a static trust claim, as in the original)
    if (req.trust) claims['trust'] = req.trust.trust;
    return claims;
  }
}
