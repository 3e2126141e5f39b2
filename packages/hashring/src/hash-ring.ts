import { HashRingError } from './errors.js';
import { murmur3Hash64Into } from './murmur3.js';
import { ringNodeName, type NodeNameMode } from './node-name.js';
import { encodeUtf8Into } from './utf8-scratch.js';

/** Virtual nodes per instance, as xmidt configures its rings. */
export const DEFAULT_VNODES = 211;
const MAX_VNODES = 100_000;

export interface HashRingOptions {
  /** Virtual nodes per member; 0 or less means 211. */
  vnodes?: number;
  /** What is hashed for an instance: its hostname (default) or the full URL. */
  nodeName?: NodeNameMode;
}

// Shared scratch space for lookups; grows (rarely) when a longer key arrives.
let scratch = new Uint8Array(256);
const hashOut = new Uint32Array(2);

function hashString(s: string): void {
  let n = encodeUtf8Into(s, scratch);
  if (n < 0) {
    scratch = new Uint8Array(Math.max(s.length * 3, scratch.length * 2));
    n = encodeUtf8Into(s, scratch);
  }
  murmur3Hash64Into(scratch, n, hashOut);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The xmidt consistent-hash ring: murmur3 x64 (seed 0, first half) tokens of `"<i>=<node>"` for
 * i in 0..vnodes-1 per member; a key is owned by the first token >= its hash, wrapping to the
 * first token. Instances are sorted byte-wise first, as xmidt's discovery does; instances that
 * share a node name collapse into one member that answers with the last of them in that order.
 * Immutable: build a new ring when the instance set changes.
 */
export class HashRing {
  /** The instance URLs, de-duplicated and sorted byte-wise. */
  readonly instances: readonly string[];
  readonly vnodes: number;
  readonly nodeName: NodeNameMode;
  private readonly tokenHi: Uint32Array;
  private readonly tokenLo: Uint32Array;
  private readonly tokenOwner: Uint32Array;
  private readonly memberUrls: string[];
  private readonly memberNames: string[];

  constructor(instances: readonly string[], options: HashRingOptions = {}) {
    const vnodes = options.vnodes ?? DEFAULT_VNODES;
    if (!Number.isInteger(vnodes) || vnodes > MAX_VNODES) {
      throw new HashRingError('options_invalid', `vnodes must be an integer <= ${MAX_VNODES}`);
    }
    this.vnodes = vnodes <= 0 ? DEFAULT_VNODES : vnodes;
    this.nodeName = options.nodeName ?? 'hostname';
    if (this.nodeName !== 'hostname' && this.nodeName !== 'url') {
      throw new HashRingError('options_invalid', `unknown nodeName mode ${String(this.nodeName)}`);
    }
    const sorted = [...new Set(instances)].sort(byteOrder);
    this.instances = Object.freeze(sorted);

    const index = new Map<string, number>();
    this.memberUrls = [];
    this.memberNames = [];
    for (const url of sorted) {
      const node = ringNodeName(url, this.nodeName);
      const known = index.get(node);
      if (known !== undefined) {
        this.memberUrls[known] = url; // the last one added answers for the node
        continue;
      }
      index.set(node, this.memberNames.length);
      this.memberNames.push(node);
      this.memberUrls.push(url);
    }

    const count = this.memberNames.length * this.vnodes;
    const hi = new Uint32Array(count);
    const lo = new Uint32Array(count);
    const owner = new Uint32Array(count);
    let p = 0;
    for (let m = 0; m < this.memberNames.length; m++) {
      const node = this.memberNames[m] as string;
      for (let i = 0; i < this.vnodes; i++) {
        hashString(`${i}=${node}`);
        hi[p] = hashOut[0] as number;
        lo[p] = hashOut[1] as number;
        owner[p] = m;
        p++;
      }
    }
    // Ascending by token; on an exact tie the later insert sorts first (it is inserted before
    // the equal token already present).
    const order = Array.from({ length: count }, (_, k) => k);
    order.sort((a, b) => {
      const ha = hi[a] as number;
      const hb = hi[b] as number;
      if (ha !== hb) return ha < hb ? -1 : 1;
      const la = lo[a] as number;
      const lb = lo[b] as number;
      if (la !== lb) return la < lb ? -1 : 1;
      return b - a;
    });
    this.tokenHi = new Uint32Array(count);
    this.tokenLo = new Uint32Array(count);
    this.tokenOwner = new Uint32Array(count);
    for (let k = 0; k < count; k++) {
      const from = order[k] as number;
      this.tokenHi[k] = hi[from] as number;
      this.tokenLo[k] = lo[from] as number;
      this.tokenOwner[k] = owner[from] as number;
    }
  }

  /** Number of ring members (distinct node names). */
  get size(): number {
    return this.memberNames.length;
  }

  /** Node name -> the instance URL that answers for it. */
  members(): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    this.memberNames.forEach((name, i) => out.set(name, this.memberUrls[i] as string));
    return out;
  }

  /**
   * The instance URL owning `key` (a canonical device id such as `mac:112233445566`), or
   * undefined when the ring is empty. Allocates nothing.
   */
  get(key: string): string | undefined {
    if (this.tokenHi.length === 0) return undefined;
    hashString(key);
    return this.lookup();
  }

  /** As get(), for a key given as bytes (`length` defaults to the whole array). */
  getBytes(key: Uint8Array, length: number = key.length): string | undefined {
    if (this.tokenHi.length === 0) return undefined;
    murmur3Hash64Into(key, Math.min(length, key.length), hashOut);
    return this.lookup();
  }

  /** The owner of the hash in `hashOut` (read here: unsigned words are not passed as arguments). */
  private lookup(): string {
    const kh = hashOut[0] as number;
    const kl = hashOut[1] as number;
    const H = this.tokenHi;
    const L = this.tokenLo;
    const n = H.length;
    let a = 0;
    let b = n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const th = H[mid] as number;
      if (th < kh || (th === kh && (L[mid] as number) < kl)) a = mid + 1;
      else b = mid;
    }
    if (a === n) a = 0;
    return this.memberUrls[this.tokenOwner[a] as number] as string;
  }
}
