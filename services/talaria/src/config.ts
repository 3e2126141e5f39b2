import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { authConfigSchema, jwtConfigSchema } from '@xmidt/auth';
import { discoveryConfigSchema } from '@xmidt/discovery';
import type { DiscoveryConfig } from '@xmidt/discovery';
import { durationSchema, listenerSchema, logSchema } from '@xmidt/runtime';
import type { ListenerConfig } from '@xmidt/runtime';

/** A Go duration string ('45s', '2m') or a number of seconds. */
const duration = (def: string, _description: string) => durationSchema(def);

export const talariaConfigSchema = Type.Object({
  server: Type.String({ default: 'localhost', description: 'X-Talaria-Server header value' }),
  build: Type.String({ default: 'development' }),
  region: Type.String({ default: 'local' }),
  flavor: Type.String({ default: 'development' }),
  url: Type.String({
    default: '',
    description:
      'URL this instance advertises (registration, ring check). Empty: http://<primary.host>:<primary port>',
  }),
  log: logSchema(),
  /** Who may call the API (/device/send, /devices, /stat): Basic and/or JWT. Empty: open. */
  auth: authConfigSchema,
  primary: listenerSchema({ port: 6200 }),
  admin: listenerSchema({ port: 6201 }),
  deviceAuth: Type.Object(
    {
      failOpen: Type.Boolean({
        default: false,
        description:
          'accept a device that sends no Authorization header (a header that is sent must be valid)',
      }),
      jwt: Type.Optional(jwtConfigSchema),
    },
    { default: {} },
  ),
  discovery: discoveryConfigSchema,
  ring: Type.Object(
    {
      nodeName: Type.Union([Type.Literal('hostname'), Type.Literal('url')], {
        default: 'hostname',
      }),
    },
    { default: {} },
  ),
  device: Type.Object(
    {
      manager: Type.Object(
        {
          maxDevices: Type.Integer({ default: 0, minimum: 0 }),
          deviceMessageQueueSize: Type.Integer({ default: 100, minimum: 1 }),
          pingPeriod: duration('45s', 'interval between pings carrying the device id'),
          idlePeriod: duration('135s', 'close a device silent for this long'),
          writeTimeout: duration('60s', 'close a device whose writes make no progress'),
          sweepInterval: duration('1s', 'period of the shared ping/idle sweep'),
          maxMessageBytes: Type.Integer({ default: 1024 * 1024, minimum: 1024 }),
          handshakeTimeout: duration('10s', 'time allowed for the upgrade checks'),
          wrpSourceCheck: Type.Object(
            {
              type: Type.Union([Type.Literal('monitor'), Type.Literal('enforce')], {
                default: 'monitor',
              }),
            },
            { default: {} },
          ),
        },
        { default: {} },
      ),
      rehasher: Type.Object(
        {
          enabled: Type.Boolean({ default: true }),
          service: Type.String({ default: 'talaria' }),
          rate: Type.Number({
            default: 100,
            minimum: 0,
            description: 'disconnects/s, 0 = no limit',
          }),
        },
        { default: {} },
      ),
      outbound: Type.Object(
        {
          method: Type.String({ default: 'POST' }),
          retries: Type.Integer({ default: 3, minimum: 0 }),
          retryBackoff: duration('1s', 'first retry delay, doubled each time'),
          maxRetryBackoff: duration('30s', 'cap of the retry delay'),
          eventEndpoints: Type.Record(
            Type.String(),
            Type.Union([Type.String(), Type.Array(Type.String())]),
            { default: {} },
          ),
          requestTimeout: duration('125s', 'an event older than this is dropped'),
          clientTimeout: duration('160s', 'one HTTP attempt'),
          outboundQueueSize: Type.Integer({ default: 1000, minimum: 1 }),
          workerPoolSize: Type.Integer({ default: 100, minimum: 1 }),
          maxConnectionsPerHost: Type.Integer({ default: 100, minimum: 1 }),
          source: Type.String({ default: 'localhost' }),
          ackSource: Type.String({ default: '', description: 'QOS ack source; empty = hostname' }),
          authKey: Type.String({ default: '' }),
          defaultScheme: Type.String({ default: 'https' }),
          allowedSchemes: Type.Array(Type.String(), { default: ['https'] }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  inbound: Type.Object(
    {
      timeout: duration('120s', '/device/send deadline'),
      devicesCacheTtl: duration('10s', 'how long GET /devices output is reused'),
      maxBodyBytes: Type.Integer({ default: 1024 * 1024, minimum: 1024 }),
    },
    { default: {} },
  ),
});

export type TalariaConfig = Static<typeof talariaConfigSchema> & {
  primary: ListenerConfig;
  admin: ListenerConfig;
  discovery: DiscoveryConfig;
};
