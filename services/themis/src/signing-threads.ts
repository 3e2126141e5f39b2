import type { KeyObject, SignKeyObjectInput } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** What a signing thread needs to sign with one key. */
export interface ThreadKey {
  hash: string | null;
  input: KeyObject | SignKeyObjectInput;
}

/** Longest batch handed to a thread in one message. */
const MAX_BATCH = 256;
/** Keys a thread remembers (the active one and a few retired ones during a rotation). */
const KEYS_PER_THREAD = 4;

// The thread's whole program: plain JavaScript, so it runs without a TypeScript loader.
// Messages in: {key: id, hash, input} (remember a key), {forget: id}, {seq, key: id, inputs}.
// Messages out: {seq, sigs} with a base64url signature, or null where signing failed, per input.
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', (m) => {
  if (m.forget !== undefined) return void keys.delete(m.forget);
  if (m.seq === undefined) return void keys.set(m.key, m);
  const k = keys.get(m.key);
  const sigs = new Array(m.inputs.length);
  let error;
  for (let i = 0; i < m.inputs.length; i++) {
    try {
      if (!k) throw new Error('unknown key ' + m.key);
      sigs[i] = sign(k.hash, Buffer.from(m.inputs[i], 'latin1'), k.input).toString('base64url');
    } catch (err) {
      sigs[i] = null;
      error ??= err instanceof Error ? err.message : String(err);
    }
  }
  parentPort.postMessage({ seq: m.seq, sigs, error });
});
`;

interface Waiter {
  resolve(sig: string): void;
  reject(err: Error): void;
}

interface Batch {
  waiters: Waiter[];
}

interface Thread {
  worker: Worker;
  /** Tokens sent and not yet answered. */
  outstanding: number;
  batches: Map<number, Batch>;
  /** Key ids this thread has been sent, oldest first. */
  keys: number[];
}

/**
 * Signing on `count` worker threads. Tokens asked for during one turn of the event loop go to a
 * thread as one message and come back as one, so the event loop pays one hand-off per batch
 * instead of one per token (libuv's pool costs a job, a wake-up and a completion per signature).
 */
export class SigningThreads {
  readonly #count: number;
  readonly #threads: Thread[] = [];
  readonly #keyIds = new WeakMap<object, number>();
  #nextKeyId = 1;
  #seq = 0;
  #closed = false;
  // the batch being gathered in this turn
  #queuedKey: { id: number; key: ThreadKey } | undefined;
  #inputs: string[] = [];
  #waiters: Waiter[] = [];
  #scheduled = false;

  constructor(count: number) {
    this.#count = Math.max(1, Math.floor(count));
    for (let i = 0; i < this.#count; i++) this.#threads.push(this.#spawn());
  }

  get threads(): number {
    return this.#count;
  }

  /** The base64url signature of `input` (latin1 bytes) with `key`; `owner` identifies the key. */
  sign(input: string, key: ThreadKey, owner: object): Promise<string> {
    if (this.#closed) return Promise.reject(new Error('signing threads are closed'));
    let id = this.#keyIds.get(owner);
    if (id === undefined) this.#keyIds.set(owner, (id = this.#nextKeyId++));
    if (this.#queuedKey !== undefined && this.#queuedKey.id !== id) this.#flush();
    this.#queuedKey = { id, key };
    const p = new Promise<string>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
    this.#inputs.push(input);
    if (this.#inputs.length >= MAX_BATCH) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onTurnEnd);
    }
    return p;
  }

  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const queued = this.#queuedKey;
    if (queued === undefined || this.#inputs.length === 0) return;
    const inputs = this.#inputs;
    const waiters = this.#waiters;
    this.#inputs = [];
    this.#waiters = [];
    let t = this.#threads[0] as Thread;
    for (const c of this.#threads) if (c.outstanding < t.outstanding) t = c;
    if (!t.keys.includes(queued.id)) {
      t.worker.postMessage({ key: queued.id, hash: queued.key.hash, input: queued.key.input });
      t.keys.push(queued.id);
      if (t.keys.length > KEYS_PER_THREAD) t.worker.postMessage({ forget: t.keys.shift() });
    }
    const seq = ++this.#seq;
    t.batches.set(seq, { waiters });
    t.outstanding += inputs.length;
    t.worker.postMessage({ seq, key: queued.id, inputs });
  }

  #spawn(): Thread {
    const worker = new Worker(THREAD_SOURCE, { eval: true });
    worker.unref();
    const t: Thread = { worker, outstanding: 0, batches: new Map(), keys: [] };
    worker.on('message', (m: { seq: number; sigs: (string | null)[]; error?: string }) => {
      const batch = t.batches.get(m.seq);
      if (!batch) return;
      t.batches.delete(m.seq);
      t.outstanding -= batch.waiters.length;
      batch.waiters.forEach((w, i) => {
        const sig = m.sigs[i];
        if (typeof sig === 'string') w.resolve(sig);
        else w.reject(new Error(m.error ?? 'signing failed'));
      });
    });
    worker.on('error', () => undefined); // followed by 'exit'
    worker.once('exit', (code) => {
      const lost = new Error(`signing thread exited (${code})`);
      for (const b of t.batches.values()) for (const w of b.waiters) w.reject(lost);
      t.batches.clear();
      t.outstanding = 0;
      if (this.#closed) return;
      const i = this.#threads.indexOf(t);
      if (i >= 0) this.#threads[i] = this.#spawn();
    });
    return t;
  }

  /** Stops the threads; tokens not yet signed are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#waiters;
    this.#waiters = [];
    this.#inputs = [];
    for (const w of pending) w.reject(new Error('signing threads are closed'));
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
