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

/** Signing inputs for one key, gathered until a thread is free to take them. */
interface Batch {
  keyId: number;
  key: ThreadKey;
  inputs: string[];
  waiters: Waiter[];
}

interface Thread {
  worker: Worker;
  /** Batches sent and not yet answered, by sequence number. */
  sent: Map<number, Waiter[]>;
  /** Key ids this thread has been sent, oldest first. */
  keys: number[];
}

/**
 * Signing on `count` worker threads, in batches: a thread is sent the tokens gathered so far
 * when it is free (at the end of the event-loop turn that asked for them, or as soon as it
 * answers its previous batch), so under load each thread signs one batch while the event loop
 * gathers the next and answers the last, and the event loop pays one hand-off per batch instead
 * of one per token (libuv's pool costs a job, a wake-up and a completion per signature).
 */
export class SigningThreads {
  readonly #count: number;
  readonly #threads: Thread[] = [];
  readonly #keyIds = new WeakMap<object, number>();
  #nextKeyId = 1;
  #seq = 0;
  #closed = false;
  /** Gathered, not yet sent; the last one takes new tokens of its key. */
  #pending: Batch[] = [];
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
    let keyId = this.#keyIds.get(owner);
    if (keyId === undefined) this.#keyIds.set(owner, (keyId = this.#nextKeyId++));
    let batch = this.#pending.at(-1);
    if (!batch || batch.keyId !== keyId || batch.inputs.length >= MAX_BATCH) {
      batch = { keyId, key, inputs: [], waiters: [] };
      this.#pending.push(batch);
    }
    batch.inputs.push(input);
    const waiters = batch.waiters;
    const p = new Promise<string>((resolve, reject) => {
      waiters.push({ resolve, reject });
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onTurnEnd);
    }
    return p;
  }

  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    for (const t of this.#threads) {
      if (this.#pending.length === 0) return;
      if (t.sent.size === 0) this.#send(t);
    }
  };

  /** Sends thread `t` the oldest gathered batch, if any. */
  #send(t: Thread): void {
    const batch = this.#pending.shift();
    if (!batch) return;
    if (!t.keys.includes(batch.keyId)) {
      t.worker.postMessage({ key: batch.keyId, hash: batch.key.hash, input: batch.key.input });
      t.keys.push(batch.keyId);
      if (t.keys.length > KEYS_PER_THREAD) t.worker.postMessage({ forget: t.keys.shift() });
    }
    const seq = ++this.#seq;
    t.sent.set(seq, batch.waiters);
    t.worker.postMessage({ seq, key: batch.keyId, inputs: batch.inputs });
  }

  #spawn(): Thread {
    const worker = new Worker(THREAD_SOURCE, { eval: true });
    worker.unref();
    const t: Thread = { worker, sent: new Map(), keys: [] };
    worker.on('message', (m: { seq: number; sigs: (string | null)[]; error?: string }) => {
      const waiters = t.sent.get(m.seq);
      if (!waiters) return;
      t.sent.delete(m.seq);
      // the next batch first, so that the thread signs while this one is answered
      if (t.sent.size === 0) this.#send(t);
      for (let i = 0; i < waiters.length; i++) {
        const sig = m.sigs[i];
        const w = waiters[i] as Waiter;
        if (typeof sig === 'string') w.resolve(sig);
        else w.reject(new Error(m.error ?? 'signing failed'));
      }
    });
    worker.on('error', () => undefined); // followed by 'exit'
    worker.once('exit', (code) => {
      const lost = new Error(`signing thread exited (${code})`);
      for (const waiters of t.sent.values()) for (const w of waiters) w.reject(lost);
      t.sent.clear();
      if (this.#closed) return;
      const i = this.#threads.indexOf(t);
      if (i < 0) return;
      const next = this.#spawn();
      this.#threads[i] = next;
      this.#send(next);
    });
    return t;
  }

  /** Stops the threads; tokens not yet signed are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#pending;
    this.#pending = [];
    const closed = new Error('signing threads are closed');
    for (const b of pending) for (const w of b.waiters) w.reject(closed);
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
