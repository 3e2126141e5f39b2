import { sign as cryptoSign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { hashOf, isRsaAlgorithm, signKeyInput, type SigningAlgorithm } from './algorithms.js';
import { SigningThreads } from './signing-threads.js';

/**
 * Where signatures are computed:
 * - `threadpool`: crypto.sign's asynchronous form, one libuv pool job per signature (several
 *   cores sign at once while the event loop keeps serving HTTP). Each job costs the event loop a
 *   hand-off, a wake-up of a pool thread and a completion: a few percent of an RSA signature, but
 *   about as much as an ECDSA or Ed25519 signature itself.
 * - `threads`: the signatures asked for in one event-loop turn go to a worker thread as one
 *   message and come back as one (one hand-off per batch).
 * - `inline`: synchronously on the event loop.
 * - `auto`: `threadpool` for RSA (RS*, PS*), `threads` for ECDSA and EdDSA.
 * bench/themis.ts measures them.
 */
export type SignerMode = 'auto' | 'threadpool' | 'threads' | 'inline';

/** The mode `auto` stands for with an algorithm; any other mode as given. */
export function resolveSignerMode(
  mode: SignerMode,
  alg: SigningAlgorithm,
): Exclude<SignerMode, 'auto'> {
  if (mode !== 'auto') return mode;
  return isRsaAlgorithm(alg) ? 'threadpool' : 'threads';
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** ms since epoch */
  createdAt: number;
  /** ms since epoch; set once the key no longer signs */
  retiredAt?: number;
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** A copy of a JSON value with the keys of every plain object in sorted order. */
function sortedCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  // Dates and the like serialise through toJSON, not their own keys
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = sortedCopy(o[k]);
  return out;
}

/**
 * JSON with object keys sorted at every level (as the original's Go maps serialise). The sorted
 * copy is serialised without a replacer, which would call back into JavaScript for every value.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedCopy(value));
}

export interface TokenSignerOptions {
  /** Signing threads of the `threads` mode (default 1). */
  threads?: number;
}

export class TokenSigner {
  readonly #mode: Exclude<SignerMode, 'auto'>;
  readonly #threads: SigningThreads | undefined;
  readonly #headers = new WeakMap<
    SigningKey,
    { header: string; hash: string | null; input: KeyObject | SignKeyObjectInput }
  >();

  constructor(mode: Exclude<SignerMode, 'auto'> = 'threadpool', opts: TokenSignerOptions = {}) {
    this.#mode = mode;
    this.#threads = mode === 'threads' ? new SigningThreads(opts.threads ?? 1) : undefined;
  }

  get mode(): Exclude<SignerMode, 'auto'> {
    return this.#mode;
  }

  #prepared(key: SigningKey) {
    let p = this.#headers.get(key);
    if (!p) {
      // golang-jwt writes {"alg","kid","typ"} (sorted map keys)
      p = {
        header: b64url(canonicalJson({ alg: key.alg, kid: key.kid, typ: 'JWT' })),
        hash: hashOf(key.alg),
        input: signKeyInput(key.alg, key.privateKey),
      };
      this.#headers.set(key, p);
    }
    return p;
  }

  /** Compact JWS of the claims (keys sorted), header {alg, kid, typ: JWT}. */
  sign(claims: Record<string, unknown>, key: SigningKey): Promise<string> {
    const prepared = this.#prepared(key);
    const signingInput = `${prepared.header}.${b64url(canonicalJson(claims))}`;
    if (this.#threads) {
      return this.#threads
        .sign(signingInput, prepared, key)
        .then((sig) => `${signingInput}.${sig}`);
    }
    const data = Buffer.from(signingInput, 'latin1');
    if (this.#mode === 'inline') {
      try {
        const sig = cryptoSign(prepared.hash, data, prepared.input);
        return Promise.resolve(`${signingInput}.${sig.toString('base64url')}`);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return new Promise((resolve, reject) => {
      cryptoSign(prepared.hash, data, prepared.input, (err, sig) => {
        if (err) reject(err);
        else resolve(`${signingInput}.${sig.toString('base64url')}`);
      });
    });
  }

  /** Stops the signing threads (`threads` mode); other modes hold nothing. */
  async close(): Promise<void> {
    await this.#threads?.close();
  }
}
