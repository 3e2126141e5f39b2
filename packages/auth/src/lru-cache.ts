/** A size-bounded map with per-entry expiry; least recently used entries are evicted first. */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, { value: V; expires: number }>();

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError('LruCache size must be >= 1');
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K, now = Date.now()): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.#map.delete(key);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key: K, value: V, ttlMs: number, now = Date.now()): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expires: now + ttlMs });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
