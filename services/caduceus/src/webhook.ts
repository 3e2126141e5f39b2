import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import {
  formatDuration as formatGoDuration,
  parseDuration as parseGoDuration,
} from '@xmidt/runtime';
import { formatRfc3339Nano, goTimeString, parseRfc3339 } from './go-time.js';
import { UrlCheckError, type UrlGuard } from './ssrf-guard.js';

/** A webhook registration (the original's v1 / "v3 API" form), times in epoch milliseconds. */
export interface Webhook {
  registeredFromAddress: string;
  config: { url: string; contentType: string; secret: string; altUrls: string[] };
  failureUrl: string;
  events: string[];
  matcher: { deviceId: string[] };
  /** Requested lifetime in milliseconds (0 = not given). */
  durationMs: number;
  /** Absolute expiry, epoch milliseconds (0 = not given). */
  untilMs: number;
}

/** What the store keeps: the registration plus who registered it. */
export interface StoredWebhook {
  /** Lowercase hex SHA-256 of `config.url` (the original's registry key). */
  id: string;
  partnerIds: string[];
  owner: string;
  webhook: Webhook;
}

export type WebhookErrorCode = 'webhook_decode' | 'webhook_invalid' | 'webhook_partners';

export class WebhookError extends Error {
  constructor(
    readonly code: WebhookErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Bounds on untrusted registration input (ours; the original has none). */
export const LIMITS = {
  urlLength: 2048,
  altUrls: 10,
  events: 100,
  deviceIds: 100,
  patternLength: 1024,
  secretLength: 1024,
  contentTypeLength: 256,
} as const;

export function webhookId(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// decoding

function decodeFail(msg: string): never {
  throw new WebhookError('webhook_decode', `failed to JSON unmarshal webhook: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(obj: Record<string, unknown>, key: string, path: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') decodeFail(`${path} must be of type string`);
  return v;
}

function strList(obj: Record<string, unknown>, key: string, path: string): string[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) decodeFail(`${path} must be of type []string`);
  return v.map((x) => {
    if (typeof x !== 'string') decodeFail(`${path} must be of type []string`);
    return x;
  });
}

function section(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) decodeFail(`${key} must be of type object`);
  return v;
}

/**
 * The registration's `duration`: a quoted Go duration (`"5m"`) or an integer number of seconds,
 * both read by the runtime's parseDuration. Only the integer rule and the error text are ours.
 */
function decodeDuration(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if ((typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'string') {
    try {
      return parseGoDuration(v);
    } catch {
      // falls through to the original's message
    }
  }
  return decodeFail(
    `duration must be of type int or string (ex:'5m'); Invalid value: ${JSON.stringify(v)}`,
  );
}

function decodeUntil(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'string') decodeFail('until must be of type time.Time');
  if (v === '0001-01-01T00:00:00Z') return 0;
  const t = parseRfc3339(v);
  if (t === undefined) {
    decodeFail(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  }
  return t;
}

/** Parses the registration JSON; throws WebhookError('webhook_decode') with the original's texts. */
export function decodeWebhook(body: Buffer | string): Webhook {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    decodeFail((err as Error).message);
  }
  if (!isObject(json)) decodeFail('webhook must be of type object');
  const cfg = section(json, 'config');
  const matcher = section(json, 'matcher');
  return {
    registeredFromAddress: '',
    config: {
      url: str(cfg, 'url', 'config.url'),
      contentType: str(cfg, 'content_type', 'config.content_type'),
      secret: str(cfg, 'secret', 'config.secret'),
      altUrls: strList(cfg, 'alt_urls', 'config.alt_urls'),
    },
    failureUrl: str(json, 'failure_url', 'failure_url'),
    events: strList(json, 'events', 'events'),
    matcher: { deviceId: strList(matcher, 'device_id', 'matcher.device_id') },
    durationMs: decodeDuration(json['duration']),
    untilMs: decodeUntil(json['until']),
  };
}

// ---------------------------------------------------------------------------------------------
// validation

export interface TtlPolicy {
  maxMs: number;
  jitterMs: number;
}

function invalid(msg: string): never {
  throw new WebhookError('webhook_invalid', msg);
}

export function compilePattern(pattern: string): RE2JS | undefined {
  if (pattern.length > LIMITS.patternLength) return undefined;
  try {
    return RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
}

function durationError(durationMs: number, ttl: TtlPolicy): string | undefined {
  if (durationMs < 0 || durationMs > ttl.maxMs) {
    return `duration value of webhook is out of bounds: ${formatGoDuration(durationMs)} not between 0 and ${formatGoDuration(ttl.maxMs)}`;
  }
  return undefined;
}

function untilError(untilMs: number, ttl: TtlPolicy, now: number): string | undefined {
  if (untilMs === 0) return undefined;
  const limit = now + ttl.maxMs + ttl.jitterMs;
  if (untilMs > limit) {
    return `until value of webhook is out of bounds: ${goTimeString(untilMs)} after ${goTimeString(limit)}`;
  }
  return undefined;
}

async function checkUrl(guard: UrlGuard, label: string, url: string): Promise<void> {
  if (url.length > LIMITS.urlLength) invalid(`${label}: url is too long`);
  try {
    await guard.check(url);
  } catch (err) {
    if (err instanceof UrlCheckError) invalid(`${label}: ${err.message}`);
    throw err;
  }
}

/**
 * Runs the original's validators in order; the first failure throws
 * WebhookError('webhook_invalid', <text>), to be answered as
 * `{"message":"failed webhook validation: <text>"}`.
 */
export async function validateWebhook(
  w: Webhook,
  guard: UrlGuard,
  ttl: TtlPolicy,
  now: number,
): Promise<void> {
  if (w.config.url === '') invalid('invalid Config URL: url cannot be an empty string');
  await checkUrl(guard, 'invalid Config URL', w.config.url);
  if (w.failureUrl !== '') await checkUrl(guard, 'invalid Failure URL', w.failureUrl);
  if (w.config.altUrls.length > LIMITS.altUrls) {
    invalid(`too many alternative URLs: at most ${LIMITS.altUrls}`);
  }
  for (const u of w.config.altUrls) {
    if (u === '') invalid(`invalid Alternative URL(s) '${u}': url cannot be an empty string`);
    await checkUrl(guard, `invalid Alternative URL(s) '${u}'`, u);
  }
  if (w.events.length === 0) invalid('cannot have zero events');
  if (w.events.length > LIMITS.events) invalid(`too many events: at most ${LIMITS.events}`);
  for (const e of w.events) if (!compilePattern(e)) invalid('event cannot be parsed');
  if (w.matcher.deviceId.length > LIMITS.deviceIds) {
    invalid(`too many deviceIDs: at most ${LIMITS.deviceIds}`);
  }
  for (const d of w.matcher.deviceId) if (!compilePattern(d)) invalid('deviceID cannot be parsed');
  if (w.durationMs === 0 && w.untilMs === 0) invalid('until and duration are both absent');
  const dErr = durationError(w.durationMs, ttl);
  if (dErr) invalid(dErr);
  const uErr = untilError(w.untilMs, ttl, now);
  if (uErr) invalid(uErr);
  if (w.config.secret.length > LIMITS.secretLength) invalid('secret is too long');
  if (w.config.contentType.length > LIMITS.contentTypeLength) invalid('content type is too long');
}

/**
 * The /api/v2/hook leniency: missing or out-of-range lifetimes are replaced by `ttl.max`,
 * with the warning text the original puts in `X-Xmidt-Warning`.
 */
export function fixV2Duration(w: Webhook, ttl: TtlPolicy, now: number): string | undefined {
  const max = formatGoDuration(ttl.maxMs);
  if (w.untilMs === 0 && w.durationMs === 0) {
    w.durationMs = ttl.maxMs;
    return `Unset duration and until fields will not be accepted in v3, webhook duration defaulted to ${max}`;
  }
  const dErr = durationError(w.durationMs, ttl);
  if (dErr) {
    w.durationMs = ttl.maxMs;
    return `Invalid duration will not be accepted in v3: ${dErr}, webhook duration defaulted to ${max}`;
  }
  const uErr = untilError(w.untilMs, ttl, now);
  if (uErr) {
    w.durationMs = ttl.maxMs;
    w.untilMs = 0;
    return `Invalid until value will not be accepted in v3: ${uErr}, webhook duration defaulted to 5m`;
  }
  return undefined;
}

/** Defaults applied after validation (device matcher `.*`, until from duration). */
export function applyDefaults(w: Webhook, remoteAddress: string, now: number): void {
  if (w.matcher.deviceId.length === 0) w.matcher.deviceId = ['.*'];
  if (w.untilMs === 0) w.untilMs = now + w.durationMs;
  w.registeredFromAddress = remoteAddress;
}

// ---------------------------------------------------------------------------------------------
// wire forms

/** The webhook as JSON in the original's layout (`duration` in ns, `until` RFC 3339). */
export function webhookToJson(w: Webhook, secret: string): Record<string, unknown> {
  const config: Record<string, unknown> = { url: w.config.url, content_type: w.config.contentType };
  if (secret !== '') config['secret'] = secret;
  if (w.config.altUrls.length > 0) config['alt_urls'] = w.config.altUrls;
  return {
    registered_from_address: w.registeredFromAddress,
    config,
    failure_url: w.failureUrl,
    events: w.events,
    matcher: { device_id: w.matcher.deviceId },
    duration: Math.round(w.durationMs * 1e6),
    until: formatRfc3339Nano(w.untilMs),
  };
}

/** The stored record, `{"PartnerIDs": [...], "Webhook": {...}}` (+ `Owner`, ours). */
export function storedToJson(
  s: StoredWebhook,
  secret = s.webhook.config.secret,
  withOwner = true,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    PartnerIDs: s.partnerIds.length > 0 ? s.partnerIds : null,
    Webhook: webhookToJson(s.webhook, secret),
  };
  if (withOwner) out['Owner'] = s.owner;
  return out;
}

/** Reads a stored record back; throws on anything that is not one. */
export function storedFromJson(json: unknown): StoredWebhook {
  if (!isObject(json) || !isObject(json['Webhook'])) throw new Error('not a stored webhook');
  const raw = json['Webhook'];
  const w = decodeWebhook(JSON.stringify({ ...raw, duration: 0 }));
  const ns = raw['duration'];
  w.durationMs = typeof ns === 'number' ? ns / 1e6 : 0;
  w.registeredFromAddress =
    typeof raw['registered_from_address'] === 'string' ? raw['registered_from_address'] : '';
  const pids = json['PartnerIDs'];
  const partnerIds = Array.isArray(pids)
    ? pids.filter((p): p is string => typeof p === 'string')
    : [];
  const owner = typeof json['Owner'] === 'string' ? json['Owner'] : '';
  return { id: webhookId(w.config.url), partnerIds, owner, webhook: w };
}

/** Go's json.Marshal output: compact, with <, >, & and U+2028/9 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
