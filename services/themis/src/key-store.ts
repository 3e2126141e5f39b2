import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeKid } from '@xmidt/auth';
import {
  generatePrivateKey,
  isSigningAlgorithm,
  keyFitsAlgorithm,
  type SigningAlgorithm,
} from './algorithms.js';
import { ThemisError } from './errors.js';
import type { SigningKey } from './signer.js';

export interface KeyStoreOptions {
  /** Signing algorithm of the active key. */
  alg: SigningAlgorithm;
  /** kid prefix of generated keys (the original's `token.key.kid`), or the kid of `file`. */
  kid: string;
  /** RSA modulus length of generated keys. */
  rsaBits: number;
  /** Directory where generated keys are kept (created 0700; files 0600). '' = memory only. */
  directory: string;
  /** PEM private key file: a fixed key with kid `kid`; no generation, no rotation. */
  file?: string;
  /** How long a retired key's public half stays published: the longest token lifetime + grace. */
  retainMs: number;
}

interface StoredKeyFile {
  kid: string;
  alg: string;
  createdAt: number;
  retiredAt?: number;
  privateKey: string; // PKCS#8 PEM
}

const MAX_KEY_FILE_BYTES = 64 * 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * The issuer's keys: one active signing key plus retired keys whose public halves stay published
 * until every token they signed has expired. Generated keys are persisted (one JSON file per
 * key, written atomically, mode 0600) so that a restart keeps them.
 */
export class KeyStore {
  readonly #opts: KeyStoreOptions;
  #keys: SigningKey[] = []; // newest first; [0] is active
  readonly #listeners = new Set<() => void>();

  private constructor(opts: KeyStoreOptions) {
    this.#opts = opts;
  }

  static async open(opts: KeyStoreOptions): Promise<KeyStore> {
    if (!isSafeKid(opts.kid))
      throw new ThemisError('key_store_invalid', `unusable kid ${opts.kid}`);
    const store = new KeyStore(opts);
    if (opts.file) await store.#loadFixed(opts.file);
    else await store.#loadDirectory();
    return store;
  }

  get rotatable(): boolean {
    return this.#opts.file === undefined;
  }

  /** The key that signs new tokens. */
  active(): SigningKey {
    const k = this.#keys[0];
    if (!k) throw new ThemisError('key_store_invalid', 'no active key');
    return k;
  }

  /** Keys whose public halves are published: the active one and those still needed. */
  published(now = Date.now()): SigningKey[] {
    return this.#keys.filter(
      (k) => k.retiredAt === undefined || k.retiredAt + this.#opts.retainMs > now,
    );
  }

  get(kid: string, now = Date.now()): SigningKey | undefined {
    return this.published(now).find((k) => k.kid === kid);
  }

  /** Called after every rotation or prune. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }

  /** A new active key; the previous one is retired (still published for retainMs). */
  async rotate(now = Date.now()): Promise<SigningKey> {
    if (!this.rotatable) {
      throw new ThemisError('rotation_unavailable', 'keys from token.key.file cannot be rotated');
    }
    const fresh = await this.#generate(now);
    const previous = this.#keys[0];
    if (previous) {
      previous.retiredAt = now;
      await this.#persist(previous);
    }
    this.#keys.unshift(fresh);
    await this.prune(now, false);
    this.#changed();
    return fresh;
  }

  /** Forgets (and deletes) retired keys past their retention. */
  async prune(now = Date.now(), notify = true): Promise<number> {
    const keep: SigningKey[] = [];
    const drop: SigningKey[] = [];
    for (const k of this.#keys) {
      if (k.retiredAt !== undefined && k.retiredAt + this.#opts.retainMs <= now) drop.push(k);
      else keep.push(k);
    }
    if (drop.length === 0) return 0;
    this.#keys = keep;
    if (this.#opts.directory !== '' && this.rotatable) {
      for (const k of drop) await rm(join(this.#opts.directory, `${k.kid}.json`), { force: true });
    }
    if (notify) this.#changed();
    return drop.length;
  }

  async #generate(now: number): Promise<SigningKey> {
    const privateKey = await generatePrivateKey(this.#opts.alg, this.#opts.rsaBits);
    const kid = `${this.#opts.kid}-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
    const key: SigningKey = {
      kid,
      alg: this.#opts.alg,
      privateKey,
      publicKey: createPublicKey(privateKey),
      createdAt: now,
    };
    await this.#persist(key);
    return key;
  }

  async #persist(key: SigningKey): Promise<void> {
    if (this.#opts.directory === '') return;
    const doc: StoredKeyFile = {
      kid: key.kid,
      alg: key.alg,
      createdAt: key.createdAt,
      privateKey: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    if (key.retiredAt !== undefined) doc.retiredAt = key.retiredAt;
    await writeFileAtomic(
      this.#opts.directory,
      `${key.kid}.json`,
      `${JSON.stringify(doc, null, 2)}\n`,
    );
  }

  async #loadFixed(file: string): Promise<void> {
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (err) {
      throw new ThemisError('key_store_invalid', `token.key.file: cannot read ${file}`, {
        cause: err,
      });
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(pem);
    } catch (err) {
      throw new ThemisError(
        'key_store_invalid',
        `token.key.file: ${file} is not a PEM private key`,
        {
          cause: err,
        },
      );
    }
    if (!keyFitsAlgorithm(this.#opts.alg, privateKey)) {
      throw new ThemisError(
        'key_store_invalid',
        `token.key.file: key does not fit ${this.#opts.alg}`,
      );
    }
    this.#keys = [
      {
        kid: this.#opts.kid,
        alg: this.#opts.alg,
        privateKey,
        publicKey: createPublicKey(privateKey),
        createdAt: Date.now(),
      },
    ];
  }

  async #loadDirectory(): Promise<void> {
    const dir = this.#opts.directory;
    const now = Date.now();
    const loaded: SigningKey[] = [];
    if (dir !== '') {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const name of await readdir(dir)) {
        if (!name.endsWith('.json') || name.startsWith('.')) continue;
        const key = await this.#readKeyFile(join(dir, name));
        if (key) loaded.push(key);
      }
    }
    loaded.sort((a, b) => b.createdAt - a.createdAt);
    // The newest unretired key of the configured algorithm stays active; any other unretired
    // key (e.g. after an algorithm change) is retired now.
    const active = loaded.find((k) => k.retiredAt === undefined && k.alg === this.#opts.alg);
    for (const k of loaded) {
      if (k !== active && k.retiredAt === undefined) {
        k.retiredAt = now;
        await this.#persist(k);
      }
    }
    const rest = loaded.filter((k) => k !== active);
    this.#keys = active ? [active, ...rest] : [await this.#generate(now), ...rest];
    await this.prune(now, false);
  }

  async #readKeyFile(path: string): Promise<SigningKey | undefined> {
    try {
      const fh = await open(path, 'r');
      let text: string;
      try {
        const st = await fh.stat();
        if (st.size > MAX_KEY_FILE_BYTES) return undefined;
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
      const doc: unknown = JSON.parse(text);
      if (!isObject(doc)) return undefined;
      const { kid, alg, createdAt, retiredAt, privateKey } = doc;
      if (typeof kid !== 'string' || !isSafeKid(kid)) return undefined;
      if (typeof alg !== 'string' || !isSigningAlgorithm(alg)) return undefined;
      if (typeof createdAt !== 'number' || typeof privateKey !== 'string') return undefined;
      if (retiredAt !== undefined && typeof retiredAt !== 'number') return undefined;
      const pk = createPrivateKey(privateKey);
      if (!keyFitsAlgorithm(alg, pk)) return undefined;
      const key: SigningKey = {
        kid,
        alg,
        privateKey: pk,
        publicKey: createPublicKey(pk),
        createdAt,
      };
      if (retiredAt !== undefined) key.retiredAt = retiredAt;
      return key;
    } catch {
      return undefined; // unreadable or foreign files are ignored
    }
  }
}
