// Local stand-in for @xmidt/discovery, following the package contract (same names and
// signatures): static and etcd backends, and ServiceRings. deps/index.ts re-exports it until
// the package ships its code.
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Etcd3 } from 'etcd3';
import type { Lease, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { HashRing } from '@xmidt/hashring';
import type { NodeNameMode } from '@xmidt/hashring';

const INSTANCE =
  /^(?:([A-Za-z][A-Za-z0-9+.-]*):\/\/)?(\[[0-9A-Fa-f:.]+\]|[^:/?#[\]\s]+)(?::(\d+))?\/?$/;

/**
 * `[scheme://]host[:port]` -> `scheme://host[:port]`: default scheme http, the scheme's default
 * port (80/443) dropped, port 0 dropped, host case kept, no path. Throws on anything else.
 */
export function normalizeInstanceUrl(url: string): string {
  const m = INSTANCE.exec(url.trim());
  if (!m) throw new TypeError(`invalid instance: ${JSON.stringify(url)}`);
  const scheme = m[1] ?? 'http';
  const host = m[2] as string;
  const port = m[3] === undefined ? 0 : Number(m[3]);
  const lower = scheme.toLowerCase();
  const dflt = lower === 'http' ? 80 : lower === 'https' ? 443 : -1;
  return port > 0 && port !== dflt ? `${scheme}://${host}:${port}` : `${scheme}://${host}`;
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
    datacenter: Type.String({ default: 'local', minLength: 1 }),
    static: Type.Optional(
      Type.Object({
        services: Type.Record(Type.String(), Type.Record(Type.String(), Type.Array(Type.String()))),
      }),
    ),
    etcd: Type.Optional(
      Type.Object({
        endpoints: Type.Array(Type.String(), { minItems: 1 }),
        prefix: Type.String({ default: '/xmidt' }),
        leaseTtlSeconds: Type.Integer({ minimum: 1, default: 10 }),
        dialTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
      }),
    ),
  },
  { default: {} },
);

/** Normalises, drops invalid entries, de-duplicates and sorts byte-wise. */
function cleanList(urls: Iterable<string>, logger?: Logger): string[] {
  const out = new Set<string>();
  for (const u of urls) {
    try {
      out.add(normalizeInstanceUrl(u));
    } catch {
      logger?.warn({ instance: u }, 'dropping invalid instance');
    }
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function sameSets(a: InstanceSets, b: InstanceSets): boolean {
  if (a.size !== b.size) return false;
  for (const [dc, list] of a) {
    const other = b.get(dc);
    if (!other || other.length !== list.length) return false;
    for (let i = 0; i < list.length; i++) if (list[i] !== other[i]) return false;
  }
  return true;
}

function createStatic(config: DiscoveryConfig, logger?: Logger): Discovery {
  const services = config.static?.services ?? {};
  return {
    datacenter: config.datacenter,
    async register() {
      return { async deregister() {} };
    },
    watch(service, onChange) {
      const sets = new Map<string, readonly string[]>();
      for (const [dc, urls] of Object.entries(services[service] ?? {})) {
        const list = cleanList(urls, logger);
        if (list.length > 0) sets.set(dc, list);
      }
      onChange(sets);
      return { current: () => sets, close() {} };
    },
    async close() {},
  };
}

function createEtcd(config: DiscoveryConfig, logger?: Logger): Discovery {
  const etcd = config.etcd;
  if (!etcd) throw new TypeError('discovery.etcd is required for type etcd');
  const prefix = etcd.prefix.replace(/\/+$/, '');
  const client = new Etcd3({
    hosts: etcd.endpoints,
    ...(etcd.dialTimeoutMs ? { dialTimeout: etcd.dialTimeoutMs } : {}),
  });
  const leases = new Set<Lease>();
  const watchers = new Set<() => void>();
  let closed = false;

  return {
    datacenter: config.datacenter,

    async register(service, url, id) {
      const key = `${prefix}/${config.datacenter}/${service}/${id ?? randomBytes(8).toString('hex')}`;
      const lease = client.lease(etcd.leaseTtlSeconds, { autoKeepAlive: true });
      lease.on('lost', (err) => logger?.warn({ err, key }, 'etcd lease lost'));
      leases.add(lease);
      await lease.put(key).value(normalizeInstanceUrl(url));
      return {
        async deregister() {
          if (!leases.delete(lease)) return;
          await lease.revoke().catch(() => undefined);
        },
      };
    },

    watch(service, onChange) {
      let current: InstanceSets = new Map();
      let stopped = false;
      let watcher: Watcher | undefined;
      let reading = false;
      let again = false;
      let first = true;
      const read = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            const all = await client.getAll().prefix(`${prefix}/`).strings();
            const byDc = new Map<string, string[]>();
            for (const [key, value] of Object.entries(all)) {
              const parts = key.slice(prefix.length + 1).split('/');
              if (parts.length < 3 || parts[1] !== service) continue;
              const dc = parts[0] as string;
              const list = byDc.get(dc) ?? [];
              list.push(value);
              byDc.set(dc, list);
            }
            const next = new Map<string, readonly string[]>();
            for (const [dc, urls] of byDc) {
              const list = cleanList(urls, logger);
              if (list.length > 0) next.set(dc, list);
            }
            if (stopped) return;
            if (first || !sameSets(current, next)) {
              first = false;
              current = next;
              onChange(next);
            }
          } while (again && !stopped);
        } catch (err) {
          logger?.warn({ err, service }, 'etcd read failed; keeping the last instance set');
        } finally {
          reading = false;
        }
      };
      client
        .watch()
        .prefix(`${prefix}/`)
        .create()
        .then(
          (w) => {
            if (stopped) {
              void w.cancel();
              return;
            }
            watcher = w;
            w.on('data', () => void read());
            w.on('connected', () => void read());
            w.on('error', (err) => logger?.warn({ err }, 'etcd watch error'));
            void read();
          },
          (err: unknown) => logger?.error({ err, service }, 'etcd watch failed'),
        );
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        watchers.delete(stop);
        void watcher?.cancel().catch(() => undefined);
      };
      watchers.add(stop);
      return { current: () => current, close: stop };
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const stop of [...watchers]) stop();
      await Promise.allSettled([...leases].map((l) => l.revoke()));
      leases.clear();
      client.close();
    },
  };
}

export function createDiscovery(config: DiscoveryConfig, logger?: Logger): Discovery {
  return config.type === 'etcd' ? createEtcd(config, logger) : createStatic(config, logger);
}

/** One HashRing per datacenter, rebuilt on every change of the watched service's instances. */
export class ServiceRings {
  private current: ReadonlyMap<string, HashRing> = new Map();
  private readonly watch: Watch;
  private readonly dc: string;

  constructor(
    discovery: Discovery,
    service: string,
    options?: {
      nodeName?: NodeNameMode;
      onChange?: (rings: ReadonlyMap<string, HashRing>) => void;
    },
  ) {
    this.dc = discovery.datacenter;
    this.watch = discovery.watch(service, (sets) => {
      const next = new Map<string, HashRing>();
      for (const [dc, urls] of sets) {
        if (urls.length > 0)
          next.set(dc, new HashRing(urls, { nodeName: options?.nodeName ?? 'hostname' }));
      }
      this.current = next;
      options?.onChange?.(next);
    });
  }

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
