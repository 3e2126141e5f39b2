import type { DeviceConnection } from './device-connection.js';

/** Connected devices by canonical id. The newest connection for an id wins. */
export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceConnection>();

  get size(): number {
    return this.devices.size;
  }

  get(id: string): DeviceConnection | undefined {
    return this.devices.get(id);
  }

  has(id: string): boolean {
    return this.devices.has(id);
  }

  /** Adds `conn`; returns the connection it replaced, if any. */
  add(conn: DeviceConnection): DeviceConnection | undefined {
    const old = this.devices.get(conn.id);
    this.devices.set(conn.id, conn);
    return old === conn ? undefined : old;
  }

  /** Removes `conn` only if it is still the entry for its id (a replaced duplicate is not). */
  remove(conn: DeviceConnection): boolean {
    if (this.devices.get(conn.id) !== conn) return false;
    this.devices.delete(conn.id);
    return true;
  }

  /** Frames queued to devices and not yet written, all devices. */
  pendingTotal(): number {
    let n = 0;
    for (const c of this.devices.values()) n += c.pending;
    return n;
  }

  values(): IterableIterator<DeviceConnection> {
    return this.devices.values();
  }

  /** A copy of the current connections, safe to iterate while devices come and go. */
  snapshot(): DeviceConnection[] {
    return [...this.devices.values()];
  }
}
