import { HashRing, type NodeNameMode } from '@xmidt/hashring';
import type { Discovery, InstanceSets, Watch } from './types.js';

export interface ServiceRingsOptions {
  nodeName?: NodeNameMode;
  vnodes?: number;
  /** Called with the rings after the first report of the watch and whenever they change. */
  onChange?: (rings: ReadonlyMap<string, HashRing>) => void;
}

/**
 * One HashRing per datacenter for a service, rebuilt from a discovery watch. A datacenter whose
 * instance list did not change keeps its ring; one without instances has no ring.
 */
export class ServiceRings {
  private current: ReadonlyMap<string, HashRing> = new Map();
  private reported = false;
  private readonly watchHandle: Watch;
  private readonly datacenter: string;

  constructor(
    discovery: Discovery,
    readonly service: string,
    private readonly options: ServiceRingsOptions = {},
  ) {
    this.datacenter = discovery.datacenter;
    this.watchHandle = discovery.watch(service, (sets) => this.update(sets, true));
    if (!this.reported) this.update(this.watchHandle.current(), false);
  }

  /** Datacenter -> ring. */
  rings(): ReadonlyMap<string, HashRing> {
    return this.current;
  }

  /** The ring of `datacenter` (default: the discovery's own datacenter). */
  ring(datacenter: string = this.datacenter): HashRing | undefined {
    return this.current.get(datacenter);
  }

  /** The owner of `key` in each datacenter that has instances. */
  owners(key: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const [dc, ring] of this.current) {
      const owner = ring.get(key);
      if (owner !== undefined) out.set(dc, owner);
    }
    return out;
  }

  close(): void {
    this.watchHandle.close();
  }

  private update(sets: InstanceSets, notify: boolean): void {
    const next = new Map<string, HashRing>();
    let changed = sets.size !== this.current.size;
    for (const [dc, instances] of sets) {
      const old = this.current.get(dc);
      if (old && sameList(old.instances, instances)) {
        next.set(dc, old);
        continue;
      }
      changed = true;
      next.set(
        dc,
        new HashRing(instances, { nodeName: this.options.nodeName, vnodes: this.options.vnodes }),
      );
    }
    this.current = next;
    if (!notify) return;
    if (this.reported && !changed) return;
    this.reported = true;
    this.options.onChange?.(next);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
