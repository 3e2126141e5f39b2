// Local stand-in for @xmidt/discovery (static backend only; same names as the package contract).
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { HashRing } from './hashring.js';
import type { NodeNameMode } from './hashring.js';

export function normalizeInstanceUrl(url: string): string {
  const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
  return `${u.protocol}//${u.host}`;
}

export interface Registration {
  deregister(): Promise<void>;
}
export type InstanceSets = ReadonlyMap<string, readonly string[]>;
export interface Watch {
  current(): InstanceSets;
  close(): void;
}
export interface Discovery {
  readonly datacenter: string;
  register(service: string, url: string, id?: string): Promise<Registration>;
  watch(service: string, onChange: (sets: InstanceSets) => void): Watch;
  close(): Promise<void>;
}
export interface DiscoveryConfig {
  type: 'static' | 'etcd';
  datacenter: string;
  static?: { services: Record<string, Record<string, string[]>> };
  etcd?: { endpoints: string[]; prefix: string; leaseTtlSeconds: number; dialTimeoutMs?: number };
}

export const discoveryConfigSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('static'), Type.Literal('etcd')], { default: 'static' }),
    datacenter: Type.String({ default: 'local' }),
    static: Type.Optional(
      Type.Object({
        services: Type.Record(Type.String(), Type.Record(Type.String(), Type.Array(Type.String()))),
      }),
    ),
    etcd: Type.Optional(
      Type.Object({
        endpoints: Type.Array(Type.String()),
        prefix: Type.String({ default: '/xmidt' }),
        leaseTtlSeconds: Type.Number({ default: 10 }),
        dialTimeoutMs: Type.Optional(Type.Number()),
      }),
    ),
  },
  { default: {} },
);

export function createDiscovery(config: DiscoveryConfig, _logger?: Logger): Discovery {
  if (config.type !== 'static') throw new Error('only static discovery is available');
  const services = config.static?.services ?? {};
  return {
    datacenter: config.datacenter,
    async register() {
      return { async deregister() {} };
    },
    watch(service, onChange) {
      const sets = new Map<string, readonly string[]>();
      for (const [dc, urls] of Object.entries(services[service] ?? {}))
        sets.set(dc, [...new Set(urls.map(normalizeInstanceUrl))].sort());
      onChange(sets);
      return { current: () => sets, close() {} };
    },
    async close() {},
  };
}

export class ServiceRings {
  private current = new Map<string, HashRing>();
  private readonly watch: Watch;
  constructor(
    discovery: Discovery,
    service: string,
    private readonly options?: {
      nodeName?: NodeNameMode;
      onChange?: (rings: ReadonlyMap<string, HashRing>) => void;
    },
  ) {
    this.dc = discovery.datacenter;
    this.watch = discovery.watch(service, (sets) => {
      const next = new Map<string, HashRing>();
      for (const [dc, urls] of sets)
        next.set(dc, new HashRing(urls, { nodeName: this.options?.nodeName ?? 'hostname' }));
      this.current = next;
      this.options?.onChange?.(next);
    });
  }
  private readonly dc: string;
  rings(): ReadonlyMap<string, HashRing> {
    return this.current;
  }
  ring(datacenter?: string): HashRing | undefined {
    return this.current.get(datacenter ?? this.dc);
  }
  close(): void {
    this.watch.close();
  }
}
