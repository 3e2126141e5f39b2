import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { UrlValidationConfig } from './config.js';

/** A webhook URL failed a check; `message` is the original's text (without the field prefix). */
export class UrlCheckError extends Error {
  readonly code = 'webhook_url_invalid';
}

export type LookupAll = (host: string) => Promise<LookupAddress[]>;

const LOOKUP_TIMEOUT_MS = 5000;

export const defaultLookupAll: LookupAll = (host) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`lookup ${host}: i/o timeout`)),
      LOOKUP_TIMEOUT_MS,
    );
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => {
      clearTimeout(timer);
      if (err) reject(new Error(`lookup ${host}: no such host`, { cause: err }));
      else resolve(addresses);
    });
  });

/** Hosts blocked by substring unless `allowSpecialUseHosts` (ancla's built-in list). */
const SPECIAL_USE_HOSTS = ['.example.', '.invalid.', '.test.', 'localhost'];
/** Subnets blocked unless `allowSpecialUseIPs` (ancla's built-in list). */
const SPECIAL_USE_SUBNETS = [
  '0.0.0.0/8',
  'fe80::/10',
  '255.255.255.255/32',
  '2001::/32',
  '2001:5::/32',
  '2002::/16',
  'fc00::/7',
  '192.0.0.0/24',
  '2001:0000::/23',
  '224.0.0.1/32',
];
const LOOPBACK_SUBNETS = ['127.0.0.0/8', '::1/128'];
/** Ours: private, shared, link-local, unique-local, unspecified and multicast ranges. */
const PRIVATE_SUBNETS = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '0.0.0.0/8',
  '224.0.0.0/4',
  'fe80::/10',
  'fc00::/7',
  '::/128',
  'ff00::/8',
];

interface Subnet {
  text: string;
  list: BlockList;
}

function subnet(text: string): Subnet {
  const slash = text.lastIndexOf('/');
  const net = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(net);
  if (family === 0) throw new UrlCheckError(`invalid subnet ${text}`);
  const prefix = slash < 0 ? (family === 4 ? 32 : 128) : Number(text.slice(slash + 1));
  const list = new BlockList();
  list.addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return { text, list };
}

/** Strips brackets and maps `::ffff:a.b.c.d` to the IPv4 address. */
export function normalizeIp(ip: string): string {
  let a = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped?.[1]) return mapped[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(a);
  if (hex?.[1] && hex[2]) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    a = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return a;
}

function inSubnets(ip: string, nets: readonly Subnet[]): Subnet | undefined {
  const a = normalizeIp(ip);
  const family = isIP(a);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return nets.find((n) => n.list.check(a, type));
}

export interface UrlPolicy {
  httpsOnly: boolean;
  allowLoopback: boolean;
  allowIP: boolean;
  allowPrivate: boolean;
  invalidHosts: string[];
  invalidSubnets: string[];
}

/** The /api/v2/hook policy: IPs and special-use names allowed, host/subnet lists ignored. */
export function v2Policy(cfg: UrlValidationConfig): UrlValidationConfig {
  return {
    ...cfg,
    httpsOnly: false,
    allowIP: true,
    allowSpecialUseHosts: true,
    allowSpecialUseIPs: true,
    invalidHosts: [],
    invalidSubnets: [],
  };
}

/**
 * Checks webhook URLs the way the original registry does (scheme, loopback, IP literal, host
 * block list, subnet block list, in that order), plus a refusal of private and link-local
 * targets unless `allowPrivate`.
 */
export class UrlGuard {
  private readonly loopback = LOOPBACK_SUBNETS.map(subnet);
  private readonly private = PRIVATE_SUBNETS.map(subnet);
  private readonly blockedSubnets: Subnet[];
  private readonly blockedHosts: string[];

  constructor(
    private readonly cfg: UrlValidationConfig,
    private readonly lookupAll: LookupAll = defaultLookupAll,
  ) {
    this.blockedSubnets = [
      ...cfg.invalidSubnets.map(subnet),
      ...(cfg.allowSpecialUseIPs ? [] : SPECIAL_USE_SUBNETS.map(subnet)),
    ];
    this.blockedHosts = [
      ...cfg.invalidHosts,
      ...(cfg.allowSpecialUseHosts ? [] : SPECIAL_USE_HOSTS),
    ];
  }

  /** Throws UrlCheckError with the original's message when `raw` is not acceptable. */
  async check(raw: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UrlCheckError(`parse "${raw}": invalid URI for request`);
    }
    const scheme = url.protocol.replace(/:$/, '');
    if (scheme !== 'http' && scheme !== 'https') {
      throw new UrlCheckError(`bad URL protocol: ${scheme}`);
    }
    if (this.cfg.httpsOnly && scheme !== 'https') {
      throw new UrlCheckError(`URL scheme is not HTTPS: ${scheme}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new UrlCheckError('URL must not carry user information');
    }
    const host = normalizeIp(url.hostname);
    const literal = isIP(host) !== 0;
    let resolved: string[] | undefined;
    const resolve = async (): Promise<string[]> => {
      if (literal) return [host];
      if (!resolved) {
        try {
          resolved = (await this.lookupAll(host)).map((a) => a.address);
        } catch (err) {
          throw new UrlCheckError(`host does not exist: ${(err as Error).message}`);
        }
        if (resolved.length === 0) throw new UrlCheckError(`host does not exist: ${host}`);
      }
      return resolved;
    };

    if (!this.cfg.allowLoopback) {
      if (literal && inSubnets(host, this.loopback)) {
        throw new UrlCheckError(`cannot use loopback host: ${host}`);
      }
      for (const ip of await resolve()) {
        if (inSubnets(ip, this.loopback)) {
          throw new UrlCheckError(`cannot use loopback host: ${host} lookup includes ${ip}`);
        }
      }
    }
    if (!this.cfg.allowIP && literal) throw new UrlCheckError(`cannot use IP as host: ${host}`);
    for (const blocked of this.blockedHosts) {
      if (url.host.includes(blocked)) throw new UrlCheckError(`host is blocked: ${url.host}`);
    }
    if (this.blockedSubnets.length > 0) {
      for (const ip of await resolve()) {
        const hit = inSubnets(ip, this.blockedSubnets);
        if (hit) {
          throw new UrlCheckError(
            `IP is within a blocked subnet: ip ${normalizeIp(ip)} in ${hit.text}`,
          );
        }
      }
    }
    if (!this.cfg.allowPrivate) {
      for (const ip of await resolve()) {
        if (inSubnets(ip, this.private)) {
          throw new UrlCheckError(
            literal
              ? `cannot use private host: ${host}`
              : `cannot use private host: ${host} lookup includes ${ip}`,
          );
        }
      }
    }
  }

  /**
   * The delivery-time rule (loopback unless allowLoopback, private/link-local unless
   * allowPrivate): the reason an address may not be connected to, or undefined.
   */
  refuseAddress(ip: string): string | undefined {
    if (!this.cfg.allowLoopback && inSubnets(ip, this.loopback)) return `loopback address ${ip}`;
    if (!this.cfg.allowPrivate && inSubnets(ip, this.private)) return `private address ${ip}`;
    return undefined;
  }
}

export class AddressRefusedError extends Error {
  readonly code = 'address_refused';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls connect options that refuses connections to addresses the guard
 * refuses, so that a name re-pointed after registration (DNS rebinding) cannot reach them.
 */
export function guardedLookup(guard: UrlGuard) {
  return (hostname: string, options: { all?: boolean; family?: number }, cb: LookupCallback) => {
    dnsLookup(hostname, { family: options.family ?? 0, all: true }, (err, addresses) => {
      if (err) return cb(err, '');
      for (const a of addresses) {
        const reason = guard.refuseAddress(a.address);
        if (reason) {
          const e = new AddressRefusedError(`refusing to connect to ${hostname}: ${reason}`);
          return cb(e as unknown as NodeJS.ErrnoException, '');
        }
      }
      if (options.all) return cb(null, addresses);
      const first = addresses[0];
      if (!first) return cb(new Error(`lookup ${hostname}: no such host`), '');
      cb(null, first.address, first.family);
    });
  };
}
