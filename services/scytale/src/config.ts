import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { durationSchema, listenerSchema, logSchema } from '@xmidt/runtime';
import { authConfigSchema } from '@xmidt/auth';
import { discoveryConfigSchema } from '@xmidt/discovery';

const checkModeSchema = Type.Union(
  [Type.Literal('off'), Type.Literal('enforce'), Type.Literal('monitor')],
  { default: 'off' },
);

/** Scytale configuration. Durations are Go duration strings ('45s') or seconds. */
export const scytaleConfigSchema = Type.Object({
  primary: listenerSchema({ port: 6300 }),
  admin: listenerSchema({ port: 6301 }),
  log: logSchema(),
  discovery: discoveryConfigSchema,
  /** Name under which the Talaria instances are registered. */
  service: Type.String({ default: 'talaria', minLength: 1 }),
  /** Hash-ring node name rule: the URL's hostname (current) or the whole URL (pre-2025). */
  nodeName: Type.Union([Type.Literal('hostname'), Type.Literal('url')], { default: 'hostname' }),
  /** Also serve the routes under /api/v2 (the original's previousVersionSupport). */
  previousVersionSupport: Type.Boolean({ default: true }),
  /** Largest request body accepted, bytes. */
  maxBodyBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  fanout: Type.Object(
    {
      /** Prefix of the Talaria routes: requests go to `{pathPrefix}/device/send`. */
      pathPrefix: Type.String({ default: '/api/v2' }),
      /** Basic credentials for Talaria: base64 of `user:pass` (as the original) or `user:pass`. */
      authorization: Type.String({ default: '' }),
      /** Deadline of the whole fan-out; on expiry 504. */
      fanoutTimeout: durationSchema('45s'),
      /** Deadline of each request to a Talaria. */
      clientTimeout: durationSchema('30s'),
      /** Fan-outs in progress at once; beyond that 503. */
      concurrency: Type.Integer({ minimum: 1, default: 1000 }),
      /** Largest Talaria response body accepted, bytes. */
      maxResponseBytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024 }),
      /** Keep-alive connections per Talaria. */
      connectionsPerHost: Type.Integer({ minimum: 1, default: 64 }),
    },
    { default: {} },
  ),
  /** Caller authentication: Basic credentials and/or Bearer JWTs (the shared `auth:` block). */
  auth: authConfigSchema,
  /**
   * Capabilities of JWT callers (`<prefix><endpoint regex>:<method>`), as the original's
   * capabilityCheck. `off` (default), `enforce` (403 when no capability grants the request) or
   * `monitor` (only counted). Basic callers are not checked.
   */
  capabilityCheck: Type.Object(
    {
      type: checkModeSchema,
      /** Regex every capability starts with, e.g. `x1:webpa:api:`; no capture groups. */
      prefix: Type.String({ default: '' }),
      /** Method word granting every method. */
      acceptAllMethod: Type.String({ default: 'all', minLength: 1 }),
      /** Regexes grouping request paths for the `endpoint` metric label (first match wins). */
      endpointBuckets: Type.Array(Type.String(), { default: [], maxItems: 100 }),
    },
    { default: {}, additionalProperties: false },
  ),
  /**
   * Partner ids of a WRP message against the caller's `allowedResources.allowedPartners`, as
   * the original's WRPCheck: `off` (default), `enforce` (400 empty / 403 not allowed) or
   * `monitor` (the message's partner ids are replaced by the allowed list). Needs `auth.jwt`
   * and no `auth.basic`.
   */
  wrpCheck: Type.Object({ type: checkModeSchema }, { default: {}, additionalProperties: false }),
  /** Values of the X-Scytale-Server/-Build/-Region/-Flavor headers. */
  server: Type.String({ default: 'localhost' }),
  build: Type.String({ default: 'development' }),
  region: Type.String({ default: 'local' }),
  flavor: Type.String({ default: 'development' }),
});

export type ScytaleConfig = Static<typeof scytaleConfigSchema>;
