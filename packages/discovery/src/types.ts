/** Datacenter -> its instance URLs (normalised, sorted byte-wise, no duplicates). */
export type InstanceSets = ReadonlyMap<string, readonly string[]>;

export interface Registration {
  /** Removes the instance (for etcd: revokes its lease). Idempotent. */
  deregister(): Promise<void>;
}

export interface Watch {
  /** The last instance sets seen (empty until the first read succeeds). */
  current(): InstanceSets;
  close(): void;
}

export interface Discovery {
  /** The datacenter this process registers in. */
  readonly datacenter: string;
  /** Advertises `url` for `service` in this datacenter until deregistered or closed. */
  register(service: string, url: string, id?: string): Promise<Registration>;
  /**
   * Reports `service`'s instances in every datacenter: `onChange` is called with the initial
   * sets and then whenever they change. A lost backend keeps the last sets.
   */
  watch(service: string, onChange: (sets: InstanceSets) => void): Watch;
  /** Deregisters everything registered here, closes all watches. */
  close(): Promise<void>;
}
