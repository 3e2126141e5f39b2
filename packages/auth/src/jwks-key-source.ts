import { AuthError, AuthErrorCode } from './auth-error.js';
import { fetchBounded } from './fetch-bounded.js';
import { keysFromJwks, MAX_JWKS_KEYS, type VerificationKey } from './key-parse.js';
import type { KeyFetchOptions, KeySource } from './key-source.js';

/**
 * Keys from a JWK set URL. The set is fetched on first use, again when older than the key TTL,
 * and again when a token names a kid the set lacks — at most once per minRefreshIntervalMs.
 * If a refresh fails, the previous set stays in use.
 */
export class JwksKeySource implements KeySource {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #ttl: number;
  readonly #minInterval: number;
  readonly #maxKeys: number;
  #keys = new Map<string, VerificationKey>();
  #fetchedAt = 0;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(url: string, opts: KeyFetchOptions = {}) {
    this.#url = url;
    this.#timeoutMs = opts.fetchTimeoutMs ?? 5000;
    this.#maxBytes = opts.maxResponseBytes ?? 256 * 1024;
    this.#ttl = opts.keyTtlMs ?? 3_600_000;
    this.#minInterval = opts.minRefreshIntervalMs ?? 30_000;
    this.#maxKeys = Math.min(opts.maxCachedKeys ?? MAX_JWKS_KEYS, MAX_JWKS_KEYS);
  }

  async getKey(kid: string): Promise<VerificationKey> {
    const now = Date.now();
    if (this.#fetchedAt === 0 || now - this.#fetchedAt > this.#ttl) {
      await this.#refresh(this.#fetchedAt === 0);
    }
    let key = this.#keys.get(kid);
    if (!key && Date.now() - this.#attemptedAt >= this.#minInterval) {
      await this.#refresh(false);
      key = this.#keys.get(kid);
    }
    if (!key) throw new AuthError(AuthErrorCode.UnknownKid, `no key with kid ${kid}`);
    return key;
  }

  async #refresh(mustSucceed: boolean): Promise<void> {
    if (!this.#inflight) {
      this.#attemptedAt = Date.now();
      this.#inflight = this.#load().finally(() => {
        this.#inflight = undefined;
      });
    }
    try {
      await this.#inflight;
    } catch (err) {
      if (mustSucceed || this.#fetchedAt === 0) {
        throw new AuthError(AuthErrorCode.KeyUnavailable, 'JWKS unavailable', { cause: err });
      }
    }
  }

  async #load(): Promise<void> {
    const res = await fetchBounded(this.#url, {
      timeoutMs: this.#timeoutMs,
      maxBytes: this.#maxBytes,
      accept: 'application/jwk-set+json, application/json',
    });
    if (res.status !== 200) throw new Error(`JWKS answered ${res.status}`);
    const keys = keysFromJwks(JSON.parse(res.body.toString('utf8')) as unknown);
    const map = new Map<string, VerificationKey>();
    for (const k of keys) {
      if (k.kid !== undefined && map.size < this.#maxKeys) map.set(k.kid, k);
    }
    this.#keys = map;
    this.#fetchedAt = Date.now();
  }
}
