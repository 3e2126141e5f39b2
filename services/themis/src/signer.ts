import { sign as cryptoSign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { hashOf, signKeyInput, type SigningAlgorithm } from './algorithms.js';

/**
 * Where signatures are computed: `threadpool` (default) uses crypto.sign's asynchronous form
 * (libuv's thread pool, so several cores sign at once while the event loop keeps serving HTTP);
 * `inline` signs synchronously on the event loop. bench/themis.ts measures both: the pool wins
 * for every algorithm (the hand-off costs 1-5 µs).
 */
export type SignerMode = 'threadpool' | 'inline';

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

/** JSON with object keys sorted at every level (as the original's Go maps serialise). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(o).sort()) out[k] = o[k];
      return out;
    }
    return v;
  });
}

export class TokenSigner {
  readonly #mode: SignerMode;
  readonly #headers = new WeakMap<
    SigningKey,
    { header: string; input: KeyObject | SignKeyObjectInput }
  >();

  constructor(mode: SignerMode = 'threadpool') {
    this.#mode = mode;
  }

  #prepared(key: SigningKey) {
    let p = this.#headers.get(key);
    if (!p) {
      // golang-jwt writes {"alg","kid","typ"} (sorted map keys)
      p = {
        header: b64url(canonicalJson({ alg: key.alg, kid: key.kid, typ: 'JWT' })),
        input: signKeyInput(key.alg, key.privateKey),
      };
      this.#headers.set(key, p);
    }
    return p;
  }

  /** Compact JWS of the claims (keys sorted), header {alg, kid, typ: JWT}. */
  sign(claims: Record<string, unknown>, key: SigningKey): Promise<string> {
    const { header, input } = this.#prepared(key);
    const signingInput = `${header}.${b64url(canonicalJson(claims))}`;
    const data = Buffer.from(signingInput, 'latin1');
    const hash = hashOf(key.alg);
    if (this.#mode === 'inline') {
      try {
        const sig = cryptoSign(hash, data, input);
        return Promise.resolve(`${signingInput}.${sig.toString('base64url')}`);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return new Promise((resolve, reject) => {
      cryptoSign(hash, data, input, (err, sig) => {
        if (err) reject(err);
        else resolve(`${signingInput}.${sig.toString('base64url')}`);
      });
    });
  }
}
