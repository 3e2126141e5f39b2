import { X509Certificate } from 'node:crypto';
import { rootCertificates, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';

/** Trust levels; a configured value <= 0 means "use the default" (as in the original). */
export interface TrustLevels {
  noCertificates: number;
  expiredUntrusted: number;
  expiredTrusted: number;
  untrusted: number;
  trusted: number;
  untrustedCertIssuerCN: number;
}

export const DEFAULT_TRUST: TrustLevels = {
  noCertificates: 0,
  expiredUntrusted: 0,
  expiredTrusted: 500,
  untrusted: 0,
  trusted: 1000,
  untrustedCertIssuerCN: 0,
};

export type TrustReason =
  | 'no_certificates'
  | 'expired_untrusted'
  | 'expired_trusted'
  | 'untrusted'
  | 'trusted'
  | 'untrusted_cert_issuer_cn';

export interface TrustResult {
  trust: number;
  reason: TrustReason;
  /** Issuer CN of the leaf when it was trusted (metric label). */
  issuerCN?: string;
}

export interface TrustEvaluatorOptions {
  /** Trust anchors; undefined = the system (Node's bundled) roots. */
  roots?: X509Certificate[];
  /** Extra intermediates from config. */
  intermediates?: X509Certificate[];
  levels?: Partial<TrustLevels>;
  /** Issuer-CN patterns whose certificates get `untrustedCertIssuerCN`. */
  untrustedIssuerCN?: RegExp[];
}

const MAX_PRESENTED = 10;
const MAX_DEPTH = 8;

/** Every certificate of a PEM bundle. */
export function parsePemBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function issuerCN(cert: X509Certificate): string | undefined {
  for (const line of cert.issuer.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

function validAt(cert: X509Certificate, t: number): boolean {
  return Date.parse(cert.validFrom) <= t && t <= Date.parse(cert.validTo);
}

/**
 * The original's evaluation of a client certificate into the `trust` claim, except that only the
 * leaf is judged: certificates the client appended serve as intermediates when building its
 * chain, never as certificates to be trusted themselves.
 */
export class TrustEvaluator {
  readonly #levels: TrustLevels;
  readonly #roots: X509Certificate[] | undefined;
  readonly #intermediates: X509Certificate[];
  readonly #untrustedCN: RegExp[];
  #systemRoots: X509Certificate[] | undefined;

  constructor(opts: TrustEvaluatorOptions = {}) {
    const levels = { ...DEFAULT_TRUST };
    for (const k of Object.keys(levels) as (keyof TrustLevels)[]) {
      const v = opts.levels?.[k];
      if (v !== undefined && v > 0) levels[k] = v;
    }
    this.#levels = levels;
    this.#roots = opts.roots;
    this.#intermediates = opts.intermediates ?? [];
    this.#untrustedCN = opts.untrustedIssuerCN ?? [];
  }

  get levels(): Readonly<TrustLevels> {
    return this.#levels;
  }

  #rootSet(): X509Certificate[] {
    if (this.#roots) return this.#roots;
    this.#systemRoots ??= rootCertificates.map((p) => new X509Certificate(p));
    return this.#systemRoots;
  }

  /** Evaluates the peer of a TLS socket (undefined or plain TCP: no certificates). */
  evaluateSocket(socket: TLSSocket | undefined): TrustResult {
    if (!socket || typeof socket.getPeerCertificate !== 'function') return this.#none();
    const peer = socket.getPeerCertificate(true);
    if (!peer || !peer.raw) return this.#none();
    const leaf = new X509Certificate(peer.raw);
    const presented: X509Certificate[] = [];
    let cur: DetailedPeerCertificate = peer;
    const seen = new Set<string>([leaf.fingerprint256]);
    while (
      cur.issuerCertificate &&
      cur.issuerCertificate !== cur &&
      presented.length < MAX_PRESENTED
    ) {
      cur = cur.issuerCertificate;
      if (!cur.raw) break;
      const c = new X509Certificate(cur.raw);
      if (seen.has(c.fingerprint256)) break;
      seen.add(c.fingerprint256);
      presented.push(c);
    }
    return this.evaluate(leaf, presented, socket.authorized === true);
  }

  #none(): TrustResult {
    return { trust: this.#levels.noCertificates, reason: 'no_certificates' };
  }

  /** Judges a leaf; `tlsVerified` when the TLS layer already verified the client's chain. */
  evaluate(
    leaf: X509Certificate,
    presented: X509Certificate[],
    tlsVerified: boolean,
    now = Date.now(),
  ): TrustResult {
    const cn = issuerCN(leaf);
    if (cn !== undefined && this.#untrustedCN.some((re) => re.test(cn))) {
      return { trust: this.#levels.untrustedCertIssuerCN, reason: 'untrusted_cert_issuer_cn' };
    }
    const expired = !validAt(leaf, now);
    // Verify as of one second before the leaf's expiry, so that expiry alone never fails it.
    const verified = tlsVerified || this.#verify(leaf, presented, Date.parse(leaf.validTo) - 1000);
    let result: TrustResult;
    if (verified && !expired) result = { trust: this.#levels.trusted, reason: 'trusted' };
    else if (verified) result = { trust: this.#levels.expiredTrusted, reason: 'expired_trusted' };
    else if (!expired) result = { trust: this.#levels.untrusted, reason: 'untrusted' };
    else result = { trust: this.#levels.expiredUntrusted, reason: 'expired_untrusted' };
    if (verified && cn !== undefined) result.issuerCN = cn;
    return result;
  }

  #verify(leaf: X509Certificate, presented: X509Certificate[], t: number): boolean {
    const roots = this.#rootSet();
    const pool = [...this.#intermediates, ...presented];
    const rootPrints = new Set(roots.map((r) => r.fingerprint256));
    const walk = (cert: X509Certificate, depth: number): boolean => {
      if (rootPrints.has(cert.fingerprint256)) return validAt(cert, t);
      if (depth > MAX_DEPTH) return false;
      for (const root of roots) {
        if (validAt(root, t) && cert.checkIssued(root) && cert.verify(root.publicKey)) return true;
      }
      for (const inter of pool) {
        if (inter.fingerprint256 === cert.fingerprint256 || !inter.ca || !validAt(inter, t))
          continue;
        if (cert.checkIssued(inter) && cert.verify(inter.publicKey) && walk(inter, depth + 1))
          return true;
      }
      return false;
    };
    try {
      return validAt(leaf, t) && walk(leaf, 0);
    } catch {
      return false;
    }
  }
}
