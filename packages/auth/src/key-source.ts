import type { VerificationKey } from './key-parse.js';

/** Where a JWT verifier gets public keys. Throws AuthError (auth_unknown_kid / auth_key_unavailable). */
export interface KeySource {
  getKey(kid: string): Promise<VerificationKey>;
}

export interface KeyFetchOptions {
  /** Deadline of one key fetch. Default 5000 ms. */
  fetchTimeoutMs?: number;
  /** Largest key-server answer read. Default 64 KiB (PEM/JWK), 256 KiB (JWKS). */
  maxResponseBytes?: number;
  /** Most keys kept in memory. Default 100. */
  maxCachedKeys?: number;
  /** How long a fetched key is trusted before it is fetched again. Default 1 h. */
  keyTtlMs?: number;
  /** How long a kid the server does not know is remembered as unknown. Default 30 s. */
  negativeTtlMs?: number;
  /** JWKS: least time between two refreshes caused by an unknown kid. Default 30 s. */
  minRefreshIntervalMs?: number;
  /** Template source: most fetches per second for kids not in the cache. Default 20. */
  maxFetchesPerSecond?: number;
}

/** Kid characters accepted before a kid is put into a URL (no '/', no dot-only segments). */
const SAFE_KID = /^[A-Za-z0-9_\-.~:+=@]{1,200}$/;

export function isSafeKid(kid: string): boolean {
  return SAFE_KID.test(kid) && kid !== '.' && kid !== '..';
}
