// Local stand-in for @xmidt/hashring (same names as the package contract).
const M = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const fmix = (k: bigint): bigint => {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & M;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & M;
  k ^= k >> 33n;
  return k;
};

/** murmur3 x64_128 with seed 0, first 64-bit half. */
export function murmur3Sum64(data: string | Uint8Array): bigint {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const len = b.length;
  let h1 = 0n;
  let h2 = 0n;
  const nblocks = Math.floor(len / 16);
  for (let i = 0; i < nblocks; i++) {
    let k1 = b.readBigUInt64LE(i * 16);
    let k2 = b.readBigUInt64LE(i * 16 + 8);
    k1 = (k1 * C1) & M;
    k1 = rotl(k1, 31n);
    k1 = (k1 * C2) & M;
    h1 ^= k1;
    h1 = rotl(h1, 27n);
    h1 = (h1 + h2) & M;
    h1 = (h1 * 5n + 0x52dce729n) & M;
    k2 = (k2 * C2) & M;
    k2 = rotl(k2, 33n);
    k2 = (k2 * C1) & M;
    h2 ^= k2;
    h2 = rotl(h2, 31n);
    h2 = (h2 + h1) & M;
    h2 = (h2 * 5n + 0x38495ab5n) & M;
  }
  const tail = nblocks * 16;
  const rem = len & 15;
  let k1 = 0n;
  let k2 = 0n;
  for (let i = rem - 1; i >= 8; i--) k2 ^= BigInt(b[tail + i] as number) << BigInt((i - 8) * 8);
  if (rem > 8) {
    k2 = (k2 * C2) & M;
    k2 = rotl(k2, 33n);
    k2 = (k2 * C1) & M;
    h2 ^= k2;
  }
  for (let i = Math.min(rem, 8) - 1; i >= 0; i--)
    k1 ^= BigInt(b[tail + i] as number) << BigInt(i * 8);
  if (rem > 0) {
    k1 = (k1 * C1) & M;
    k1 = rotl(k1, 31n);
    k1 = (k1 * C2) & M;
    h1 ^= k1;
  }
  h1 ^= BigInt(len);
  h2 ^= BigInt(len);
  h1 = (h1 + h2) & M;
  h2 = (h2 + h1) & M;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) & M;
  return h1;
}

export type NodeNameMode = 'hostname' | 'url';

/** Host of an instance URL without its port; case kept; IPv6 brackets dropped only with a port. */
function hostnameOf(url: string): string {
  let rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = rest.search(/[/?#]/);
  if (slash >= 0) rest = rest.slice(0, slash);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  const v6 = /^\[([^\]]*)\]:\d*$/.exec(rest);
  if (v6) return v6[1] as string;
  if (rest.startsWith('[')) return rest;
  const colon = rest.lastIndexOf(':');
  return colon >= 0 ? rest.slice(0, colon) : rest;
}

export class HashRing {
  readonly instances: readonly string[];
  private readonly tokens: bigint[] = [];
  private readonly owners: string[] = [];

  constructor(
    instances: readonly string[],
    options?: { vnodes?: number; nodeName?: NodeNameMode },
  ) {
    this.instances = [...instances];
    const vnodes = options?.vnodes && options.vnodes > 0 ? options.vnodes : 211;
    const byName = new Map<string, string>();
    for (const inst of instances) {
      const name = options?.nodeName === 'url' ? inst : hostnameOf(inst);
      byName.set(name, inst);
    }
    const entries: Array<[bigint, string]> = [];
    for (const [name, inst] of byName) {
      for (let i = 0; i < vnodes; i++) entries.push([murmur3Sum64(`${i}=${name}`), inst]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [t, inst] of entries) {
      this.tokens.push(t);
      this.owners.push(inst);
    }
  }

  get(key: string): string | undefined {
    if (this.tokens.length === 0) return undefined;
    const t = murmur3Sum64(key);
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.tokens[mid] as bigint) < t) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.tokens.length ? 0 : lo];
  }
}
