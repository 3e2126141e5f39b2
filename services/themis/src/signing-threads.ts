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

/** One signature asked for and not yet sent to a thread. */
interface Job extends Waiter {
  keyId: number;
  key: ThreadKey;
  input: string;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not yet answered, by sequence number. */
  sent: Map<number, Waiter[]>;
  /** Key ids this thread has been sent, oldest first. */
  keys: number[];
}

/** Batches a thread may hold at once: the next one waits in its queue while it signs one. */
const IN_FLIGHT = 2;

/**
 * Signing on `count` worker threads, in batches: a thread is sent a share of the tokens gathered
 * so far whenever it holds fewer than IN_FLIGHT batches (at the end of the event-loop turn that
 * asked for them, or as soon as it answers a batch), so under load each thread signs one batch
 * while the next waits in its queue and the event loop answers the last, and the event loop pays
 * one hand-off per batch instead of one per token (libuv's pool costs a job, a wake-up and a
 * completion per signature).
 */
export class SigningThreads {
  readonly #count: number;
  readonly #threads: Thread[] = [];
  readonly #keyIds = new WeakMap<object, number>();
  #nextKeyId = 1;
  #seq = 0;
  #closed = false;
  /** Asked for, not yet sent; the jobs before #head are taken. */
  #queue: Job[] = [];
  #head = 0;
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
    const p = new Promise<string>((resolve, reject) => {
      this.#queue.push({ keyId, key, input, resolve, reject });
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
      if (this.#head === this.#queue.length) return;
      if (t.sent.size < IN_FLIGHT) this.#send(t);
    }
  };

  /**
   * Sends thread `t` its share of the waiting jobs (of one key), if any: the waiting jobs split
   * over one more than the threads, so that some are left to go out as soon as a thread is free
   * again, instead of every token in circulation moving in one batch (the event loop and the
   * threads would then take turns instead of working at once).
   */
  #send(t: Thread): void {
    const q = this.#queue;
    const waiting = q.length - this.#head;
    if (waiting === 0) return;
    const first = q[this.#head] as Job;
    const share = Math.min(MAX_BATCH, Math.ceil(waiting / (this.#count + 1)));
    const inputs: string[] = [];
    const waiters: Waiter[] = [];
    while (inputs.length < share && this.#head < q.length) {
      const job = q[this.#head] as Job;
      if (job.keyId !== first.keyId) break;
      inputs.push(job.input);
      waiters.push(job);
      this.#head++;
    }
    if (this.#head === q.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 1024) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
    if (!t.keys.includes(first.keyId)) {
      t.worker.postMessage({ key: first.keyId, hash: first.key.hash, input: first.key.input });
      t.keys.push(first.keyId);
      if (t.keys.length > KEYS_PER_THREAD) t.worker.postMessage({ forget: t.keys.shift() });
    }
    const seq = ++this.#seq;
    t.sent.set(seq, waiters);
    t.worker.postMessage({ seq, key: first.keyId, inputs });
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
      if (t.sent.size < IN_FLIGHT) this.#send(t);
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
    const waiting = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    const closed = new Error('signing threads are closed');
    for (const job of waiting) job.reject(closed);
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
