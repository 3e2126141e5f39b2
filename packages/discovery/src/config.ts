import { Type } from '@sinclair/typebox';

export interface StaticDiscoveryConfig {
  /** service -> datacenter -> instance URLs */
  services: Record<string, Record<string, string[]>>;
}

export interface EtcdDiscoveryConfig {
  endpoints: string[];
  /** Key prefix; instances live at `<prefix>/<datacenter>/<service>/<id>`. */
  prefix: string;
  leaseTtlSeconds: number;
  /** Connect timeout for the etcd client. */
  dialTimeoutMs?: number;
  /** Deadline of a single (non-streaming) etcd request; default 5000. */
  requestTimeoutMs?: number;
}

export interface DiscoveryConfig {
  type: 'static' | 'etcd';
  datacenter: string;
  static?: StaticDiscoveryConfig;
  etcd?: EtcdDiscoveryConfig;
}

const name = { minLength: 1, maxLength: 253, pattern: '^[^/\\s]+$' };

/** typebox schema of DiscoveryConfig with its defaults, to embed in a service's config. */
export const discoveryConfigSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('static'), Type.Literal('etcd')], { default: 'static' }),
    datacenter: Type.String({ ...name, default: 'dc1' }),
    static: Type.Optional(
      Type.Object(
        {
          services: Type.Record(
            Type.String(),
            Type.Record(Type.String(), Type.Array(Type.String({ maxLength: 2048 }))),
            { default: {} },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    etcd: Type.Optional(
      Type.Object(
        {
          endpoints: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            default: ['http://127.0.0.1:2379'],
          }),
          prefix: Type.String({ default: '/xmidt' }),
          leaseTtlSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10 }),
          dialTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
          requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);
