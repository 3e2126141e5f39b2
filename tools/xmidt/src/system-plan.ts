import { join } from 'node:path';
import type { LogLevel } from '@xmidt/runtime';
import { DEFAULT_PORTS, INSTANCE_STRIDE } from './ports.js';
import type { YamlService } from './service-schemas.js';

export type SystemMode = 'start' | 'cluster';

export interface PlanOptions {
  mode: SystemMode;
  dataDir: string;
  /** Added to every port. */
  offset: number;
  /** `user:pass` for the HTTP APIs (Scytale, Talaria, Caduceus). */
  apiAuth: string;
  logLevel: LogLevel;
  /** Cluster mode: the etcd client URL. */
  etcdUrl?: string;
}

/** One process to run: its service, configuration and where it listens. */
export interface PlannedInstance {
  service: YamlService;
  /** Unique name: the service, or `talaria-2` for further instances. */
  name: string;
  config: Record<string, unknown>;
  url: string;
  admin: string;
  issuer?: string;
  /** Every port it binds (checked free before starting). */
  ports: number[];
}

export const HOST = '127.0.0.1';
export const DATACENTER = 'dc1';
const TALARIAS_IN_CLUSTER = 3;
const CADUCEI_IN_CLUSTER = 2;

const url = (port: number): string => `http://${HOST}:${port}`;
const listener = (port: number): { host: string; port: number } => ({ host: HOST, port });

/**
 * The configuration of every process of the system. `start`: one of each service, static
 * discovery, Caduceus' file store in the data dir, loopback webhooks allowed. `cluster`:
 * 3 Talarias, 2 Caduceus (etcd store), Petasos, Scytale, Themis, all discovering through etcd.
 */
export function planSystem(o: PlanOptions): PlannedInstance[] {
  const cluster = o.mode === 'cluster';
  if (cluster && o.etcdUrl === undefined) throw new Error('cluster mode needs an etcd URL');
  const p = (base: number, instance = 0): number => base + o.offset + instance * INSTANCE_STRIDE;
  const basic = Buffer.from(o.apiAuth).toString('base64');

  const themisKey = p(DEFAULT_PORTS.themis.key);
  const themisIssuer = p(DEFAULT_PORTS.themis.issuer);
  const themisAdmin = p(DEFAULT_PORTS.themis.admin);
  const keysUrl = `${url(themisKey)}/keys/{kid}`;

  const talariaCount = cluster ? TALARIAS_IN_CLUSTER : 1;
  const caduceusCount = cluster ? CADUCEI_IN_CLUSTER : 1;
  const talariaUrls = Array.from({ length: talariaCount }, (_, i) =>
    url(p(DEFAULT_PORTS.talaria.primary, i)),
  );
  const caduceusUrls = Array.from({ length: caduceusCount }, (_, i) =>
    url(p(DEFAULT_PORTS.caduceus.primary, i)),
  );

  const discovery = cluster
    ? {
        type: 'etcd',
        datacenter: DATACENTER,
        etcd: { endpoints: [o.etcdUrl], prefix: '/xmidt', leaseTtlSeconds: 10 },
      }
    : {
        type: 'static',
        datacenter: DATACENTER,
        static: { services: { talaria: { [DATACENTER]: talariaUrls } } },
      };
  // With every instance on 127.0.0.1 the hostname rule would give them all one ring node.
  const nodeName = cluster ? 'url' : 'hostname';
  const log = { level: o.logLevel };
  const out: PlannedInstance[] = [];

  const themis: Record<string, unknown> = {
    log,
    servers: {
      key: listener(themisKey),
      issuer: listener(themisIssuer),
      admin: listener(themisAdmin),
    },
    token: { key: { directory: join(o.dataDir, 'themis', 'keys') } },
  };
  out.push({
    service: 'themis',
    name: 'themis',
    config: themis,
    url: url(themisKey),
    admin: url(themisAdmin),
    issuer: url(themisIssuer),
    ports: [themisKey, themisIssuer, themisAdmin],
  });

  for (let i = 0; i < caduceusCount; i++) {
    const primary = p(DEFAULT_PORTS.caduceus.primary, i);
    const admin = p(DEFAULT_PORTS.caduceus.admin, i);
    const caduceus: Record<string, unknown> = {
      primary: listener(primary),
      admin: listener(admin),
      log,
      auth: { basic: [o.apiAuth] },
      store: cluster
        ? { type: 'etcd', etcd: { endpoints: [o.etcdUrl], prefix: '/xmidt' } }
        : { type: 'file', file: { path: join(o.dataDir, 'caduceus-webhooks.json') } },
    };
    if (!cluster) {
      // Receivers on this machine (http://127.0.0.1:PORT, http://localhost:PORT): allowed
      // in the all-in-one development system only.
      caduceus['webhook'] = {
        validation: {
          url: { allowLoopback: true, allowIP: true, allowSpecialUseHosts: true },
        },
      };
      // Devices here may connect without a token, so their events carry no partner id:
      // deliver every event to every matching webhook regardless of partner ids.
      caduceus['sender'] = { disablePartnerIDs: true };
    }
    out.push({
      service: 'caduceus',
      name: instanceName('caduceus', i),
      config: caduceus,
      url: url(primary),
      admin: url(admin),
      ports: [primary, admin],
    });
  }

  for (let i = 0; i < talariaCount; i++) {
    const primary = p(DEFAULT_PORTS.talaria.primary, i);
    const admin = p(DEFAULT_PORTS.talaria.admin, i);
    const notify = `${caduceusUrls[i % caduceusUrls.length] as string}/api/v4/notify`;
    out.push({
      service: 'talaria',
      name: instanceName('talaria', i),
      config: talariaConfig({
        primary,
        admin,
        url: talariaUrls[i] as string,
        logLevel: o.logLevel,
        discovery,
        nodeName,
        apiAuth: o.apiAuth,
        notify,
        notifyAuth: basic,
        keysUrl,
      }),
      url: talariaUrls[i] as string,
      admin: url(admin),
      ports: [primary, admin],
    });
  }

  const petasosPrimary = p(DEFAULT_PORTS.petasos.primary);
  const petasosAdmin = p(DEFAULT_PORTS.petasos.admin);
  out.push({
    service: 'petasos',
    name: 'petasos',
    config: {
      primary: listener(petasosPrimary),
      admin: listener(petasosAdmin),
      log,
      discovery,
      nodeName,
    },
    url: url(petasosPrimary),
    admin: url(petasosAdmin),
    ports: [petasosPrimary, petasosAdmin],
  });

  const scytalePrimary = p(DEFAULT_PORTS.scytale.primary);
  const scytaleAdmin = p(DEFAULT_PORTS.scytale.admin);
  out.push({
    service: 'scytale',
    name: 'scytale',
    config: {
      primary: listener(scytalePrimary),
      admin: listener(scytaleAdmin),
      log,
      discovery,
      nodeName,
      auth: { basic: [o.apiAuth] },
      fanout: { authorization: o.apiAuth },
    },
    url: url(scytalePrimary),
    admin: url(scytaleAdmin),
    ports: [scytalePrimary, scytaleAdmin],
  });
  return out;
}

function instanceName(service: string, i: number): string {
  return i === 0 ? service : `${service}-${i + 1}`;
}

interface TalariaPlan {
  primary: number;
  admin: number;
  url: string;
  logLevel: LogLevel;
  discovery: Record<string, unknown>;
  nodeName: string;
  apiAuth: string;
  notify: string;
  notifyAuth: string;
  keysUrl: string;
}

/**
 * Talaria's YAML. Devices: dev mode (`failOpen`: a device without a token is let in, a token
 * given is checked against Themis' keys). API: Basic with the system's credentials. Events:
 * to Caduceus' notify endpoint with the same credentials.
 */
function talariaConfig(t: TalariaPlan): Record<string, unknown> {
  const config: Record<string, unknown> = {
    url: t.url,
    primary: listener(t.primary),
    admin: listener(t.admin),
    discovery: t.discovery,
    ring: { nodeName: t.nodeName },
  };
  config['log'] = { level: t.logLevel };
  config['deviceAuth'] = { failOpen: true, jwt: { keysUrl: t.keysUrl } };
  config['auth'] = { basic: [t.apiAuth] };
  config['device'] = {
    outbound: {
      eventEndpoints: { default: t.notify },
      authKey: t.notifyAuth,
      allowedSchemes: ['http', 'https'],
    },
  };
  return config;
}
