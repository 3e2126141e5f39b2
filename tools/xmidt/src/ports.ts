/**
 * The original's default ports. `xmidt start` uses them as they are (plus `--port-offset`);
 * `xmidt cluster` gives instance i of a service the ports + i * INSTANCE_STRIDE.
 */
export const DEFAULT_PORTS = {
  caduceus: { primary: 6000, admin: 6001 },
  talaria: { primary: 6200, admin: 6201 },
  scytale: { primary: 6300, admin: 6301 },
  petasos: { primary: 6400, admin: 6401 },
  // Themis: key server, issuer, and the admin listener (health, ready, metrics) on the
  // original's metrics port, as in services/themis/src/config.ts.
  themis: { key: 6500, issuer: 6501, admin: 6503 },
  // etcd's own defaults (cluster mode only).
  etcd: { client: 2379, peer: 2380 },
} as const;

export const INSTANCE_STRIDE = 10;

/** Largest --port-offset that keeps every port (with cluster strides) below 65536. */
export const MAX_PORT_OFFSET = 65535 - 6600;
