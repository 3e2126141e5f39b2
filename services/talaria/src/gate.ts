import type { ConnectInfo } from './device-connection.js';
import type { TalariaMetrics } from './metrics.js';

/** Looks `key` up in the device's claims, then its convey data; partner ids answer `partner-id`. */
export function deviceValues(info: ConnectInfo, key: string): unknown[] {
  const out: unknown[] = [];
  const add = (v: unknown): void => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) out.push(...(v as unknown[]));
    else out.push(v);
  };
  add(info.claims[key]);
  if (out.length === 0 && info.convey) add(info.convey[key]);
  if (key === 'partner-id' && out.length === 0) add(info.partnerIds);
  return out;
}

export function matchesFilter(
  info: ConnectInfo,
  key: string,
  values: ReadonlySet<string>,
): boolean {
  for (const v of deviceValues(info, key)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      if (values.has(String(v))) return true;
    }
  }
  return false;
}

/** The connect gate (open/closed) and its per-device filters. Starts open. */
export class Gate {
  private isOpen = true;
  private changedAt = new Date();
  private readonly filters = new Map<string, Set<string>>();

  constructor(private readonly metrics: TalariaMetrics) {
    metrics.gateStatus.set(1);
  }

  get open(): boolean {
    return this.isOpen;
  }

  /** Returns true if the state changed. */
  setOpen(open: boolean): boolean {
    if (open === this.isOpen) return false;
    this.isOpen = open;
    this.changedAt = new Date();
    this.metrics.gateStatus.set(open ? 1 : 0);
    return true;
  }

  state(): { open: boolean; timestamp: string } {
    return { open: this.isOpen, timestamp: this.changedAt.toISOString() };
  }

  /** Replaces the values of `key`; returns true if the key is new. */
  setFilter(key: string, values: readonly string[]): boolean {
    const created = !this.filters.has(key);
    this.filters.set(key, new Set(values));
    return created;
  }

  deleteFilter(key: string): void {
    this.filters.delete(key);
  }

  filtersJSON(): { filters: Record<string, string[]>; allowedFilters: null } {
    const filters: Record<string, string[]> = {};
    for (const [k, v] of this.filters) filters[k] = [...v];
    return { filters, allowedFilters: null };
  }

  /** True when a filter matches the device, which then may not connect. */
  blocks(info: ConnectInfo): boolean {
    for (const [key, values] of this.filters) if (matchesFilter(info, key, values)) return true;
    return false;
  }
}
