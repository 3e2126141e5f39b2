import { Type, type Static } from '@sinclair/typebox';
import { durationSchema, listenerSchema, logSchema } from '@xmidt/runtime';

/** A Go duration string or a number of seconds; read it with parseDuration(). */
const Duration = (def: string, _description: string) => durationSchema(def);

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
  auth: Type.Object(
    {
      /** `user:pass` (or base64 of it, as the original's `authHeader`) accepted as Basic. */
      basic: Type.Array(Type.String(), { default: [] }),
      /** Bearer JWT verification; absent = Bearer not accepted. */
      jwt: Type.Optional(
        Type.Object({
          keysUrl: Type.Optional(Type.String()),
          jwksUrl: Type.Optional(Type.String()),
          algorithms: Type.Optional(Type.Array(Type.String())),
          leewaySeconds: Type.Optional(Type.Number({ minimum: 0 })),
        }),
      ),
    },
    { default: {} },
  ),
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
      cutOffPeriod: Duration('10s', 'how long a webhook whose queue overflowed is cut off'),
      deliveryRetries: Type.Integer({ minimum: 0, maximum: 20, default: 3 }),
      deliveryInterval: Duration('100ms', 'first retry backoff'),
      maxDeliveryInterval: Duration('5s', 'backoff cap'),
      responseHeaderTimeout: Duration('10s', 'per-attempt timeout for the response'),
      idleConnTimeout: Duration('30s', 'keep-alive of idle connections'),
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
              max: Duration('1h', 'longest accepted duration'),
              jitter: Duration('10s', 'slack allowed on until'),
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
