import { AuthError, AuthErrorCode } from './auth-error.js';
import { fetchBounded } from './fetch-bounded.js';
import { keyFromResponse, type VerificationKey } from './key-parse.js';
import { isSafeKid, type KeyFetchOptions, type KeySource } from './key-source.js';
import { LruCache } from './lru-cache.js';

type Cached = { ok: true; key: VerificationKey } | { ok: false };

/**
 * Keys fetched one by one from a URL template such as `http://themis:6500/keys/{kid}` (the
 * original's `{keyID}` placeholder is accepted too). Keys are cached by the kid that was asked
 * for; unknown kids are remembered for a while; concurrent look-ups of one kid share a fetch;
 * fetches for uncached kids are rate-limited.
 */
export class TemplateKeySource implements KeySource {
  readonly #template: string;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #ttl: number;
  readonly #negativeTtl: number;
  readonly #cache: LruCache<string, Cached>;
  readonly #inflight = new Map<string, Promise<VerificationKey>>();
  readonly #maxPerSecond: number;
  #windowStart = 0;
  #windowCount = 0;

  constructor(template: string, opts: KeyFetchOptions = {}) {
    if (!template.includes('{kid}') && !template.includes('{keyID}')) {
      throw new TypeError('key URL template must contain {kid} (or {keyID})');
    }
    this.#template = template;
    this.#timeoutMs = opts.fetchTimeoutMs ?? 5000;
    this.#maxBytes = opts.maxResponseBytes ?? 64 * 1024;
    this.#ttl = opts.keyTtlMs ?? 3_600_000;
    this.#negativeTtl = opts.negativeTtlMs ?? 30_000;
    this.#cache = new LruCache(opts.maxCachedKeys ?? 100);
    this.#maxPerSecond = opts.maxFetchesPerSecond ?? 20;
  }

  urlFor(kid: string): string {
    const k = encodeURIComponent(kid);
    return this.#template.replaceAll('{kid}', k).replaceAll('{keyID}', k);
  }

  async getKey(kid: string): Promise<VerificationKey> {
    if (!isSafeKid(kid)) throw new AuthError(AuthErrorCode.UnknownKid, 'unusable kid');
    const hit = this.#cache.get(kid);
    if (hit) {
      if (hit.ok) return hit.key;
      throw new AuthError(AuthErrorCode.UnknownKid, `no key with kid ${kid}`);
    }
    const pending = this.#inflight.get(kid);
    if (pending) return pending;
    this.#takeBudget();
    const p = this.#fetch(kid).finally(() => this.#inflight.delete(kid));
    this.#inflight.set(kid, p);
    return p;
  }

  #takeBudget(): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    if (this.#windowCount >= this.#maxPerSecond) {
      throw new AuthError(AuthErrorCode.KeyUnavailable, 'key fetch rate limit reached');
    }
    this.#windowCount++;
  }

  async #fetch(kid: string): Promise<VerificationKey> {
    let res;
    try {
      res = await fetchBounded(this.urlFor(kid), {
        timeoutMs: this.#timeoutMs,
        maxBytes: this.#maxBytes,
      });
    } catch (err) {
      throw new AuthError(AuthErrorCode.KeyUnavailable, 'key server unavailable', { cause: err });
    }
    if (res.status === 404) {
      this.#cache.set(kid, { ok: false }, this.#negativeTtl);
      throw new AuthError(AuthErrorCode.UnknownKid, `no key with kid ${kid}`);
    }
    if (res.status !== 200) {
      throw new AuthError(AuthErrorCode.KeyUnavailable, `key server answered ${res.status}`);
    }
    let key: VerificationKey | undefined;
    try {
      key = keyFromResponse(res.contentType, res.body, kid);
    } catch (err) {
      throw new AuthError(AuthErrorCode.KeyUnavailable, 'key server answered no usable key', {
        cause: err,
      });
    }
    if (!key) {
      this.#cache.set(kid, { ok: false }, this.#negativeTtl);
      throw new AuthError(AuthErrorCode.UnknownKid, `no key with kid ${kid}`);
    }
    this.#cache.set(kid, { ok: true, key }, this.#ttl);
    return key;
  }
}
