import { Type, type Static } from '@sinclair/typebox';
import { authConfigSchema } from '@xmidt/auth';
import { durationSchema, listenerSchema, logSchema } from '@xmidt/runtime';

export const urlValidationSchema = Type.Object(
  {
    httpsOnly: Type.Boolean({ default: false }),
    allowLoopback: Type.Boolean({ default: false }),
    allowIP: Type.Boolean({ default: false }),
    allowSpecialUseHosts: Type.Boolean({ default: false }),
    allowSpecialUseIPs: Type.Boolean({ default: false }),
    /** Ours: RFC 1918, CGNAT, link-local and unique-local ranges (refused unless true). */
    allowPrivate: Type.Boolean({ default: false }),
    invalidHosts: Type.Array(Type.String(), { default: [] }),
    invalidSubnets: Type.Array(Type.String(), { default: [] }),
    /** Ours: check the resolved address again when connecting for each delivery. */
    checkAtDelivery: Type.Boolean({ default: true }),
  },
  { default: {} },
);

export const caduceusConfigSchema = Type.Object({
  primary: listenerSchema({ host: '0.0.0.0', port: 6000 }),
  admin: listenerSchema({ host: '0.0.0.0', port: 6001 }),
  log: logSchema(),
  server: Type.String({ default: '' }),
  build: Type.String({ default: '' }),
  region: Type.String({ default: '' }),
  flavor: Type.String({ default: '' }),
  /** `/api/v3/notify` beside `/api/v4/notify`. */
  previousVersionSupport: Type.Boolean({ default: true }),
  /** Who may notify and register: `basic` list and optional `jwt` (see @xmidt/auth). */
  auth: authConfigSchema,
  intake: Type.Object(
    {
      /** Notify requests in flight plus events not yet fanned out; beyond it: 503. */
      maxOutstanding: Type.Integer({ minimum: 1, default: 10_000 }),
      maxBodyBytes: Type.Integer({ minimum: 64, default: 1_048_576 }),
    },
    { default: {} },
  ),
  sender: Type.Object(
    {
      numWorkersPerSender: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
      /** Connections to one receiver origin, shared by every webhook pointing there. */
      maxConnectionsPerOrigin: Type.Integer({ minimum: 1, default: 512 }),
      queueSizePerSender: Type.Integer({ minimum: 1, default: 10_000 }),
      cutOffPeriod: durationSchema('10s'), // how long a webhook whose queue overflowed is cut off
      deliveryRetries: Type.Integer({ minimum: 0, maximum: 20, default: 3 }),
      deliveryInterval: durationSchema('100ms'), // first retry backoff
      maxDeliveryInterval: durationSchema('5s'), // backoff cap
      responseHeaderTimeout: durationSchema('10s'), // per-attempt timeout for the response
      idleConnTimeout: durationSchema('30s'), // keep-alive of idle connections
      disableClientHostnameValidation: Type.Boolean({ default: false }),
      customPIDs: Type.Array(Type.String(), { default: [] }),
      disablePartnerIDs: Type.Boolean({ default: false }),
    },
    { default: {} },
  ),
  webhook: Type.Object(
    {
      disablePartnerIDs: Type.Boolean({ default: false }),
      maxRegistrations: Type.Integer({ minimum: 1, default: 10_000 }),
      maxBodyBytes: Type.Integer({ minimum: 256, default: 65_536 }),
      validation: Type.Object(
        {
          url: urlValidationSchema,
          ttl: Type.Object(
            {
              max: durationSchema('1h'), // longest accepted duration
              jitter: durationSchema('10s'), // slack allowed on until
            },
            { default: {} },
          ),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  store: Type.Object(
    {
      type: Type.Union([Type.Literal('file'), Type.Literal('memory'), Type.Literal('etcd')], {
        default: 'file',
      }),
      file: Type.Object(
        { path: Type.String({ default: './caduceus-webhooks.json' }) },
        { default: {} },
      ),
      etcd: Type.Object(
        {
          endpoints: Type.Array(Type.String(), { default: ['http://127.0.0.1:2379'] }),
          prefix: Type.String({ default: '/xmidt' }),
          dialTimeoutMs: Type.Integer({ minimum: 1, default: 5000 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
});

export type CaduceusConfig = Static<typeof caduceusConfigSchema>;
export type UrlValidationConfig = Static<typeof urlValidationSchema>;
