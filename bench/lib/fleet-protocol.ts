// IPC messages between the benchmark driver (DeviceFleet) and its device-worker processes.

/** Where and how the simulated devices connect. */
export type FleetTarget =
  | {
      kind: 'ws';
      /** Websocket URL (Talaria, Petasos, the bare server or the relay). */
      url: string;
      /** Follow a 307 from Petasos to the Talaria that owns the device. */
      followRedirects?: boolean;
      /** Send `Authorization: Bearer <token>` with the token fetched by a `tokens` request. */
      bearer?: boolean;
      /** How a device answers a binary message: echo a WRP transaction, or the bytes as is. */
      echo: 'wrp' | 'raw';
      /** Local addresses to spread the sockets over (127.x), round robin. */
      localAddresses?: string[];
    }
  | {
      kind: 'mqtt';
      host: string;
      port: number;
      /** Keep-alive seconds (the client's PINGREQ period). */
      keepAlive: number;
      version: 4 | 5;
      /** Subscribe to `req/<device id>` and answer MQTT 5 requests on their response topic. */
      responder?: boolean;
      localAddresses?: string[];
    };

export type WorkerRequest =
  | { type: 'connect'; target: FleetTarget; firstId: number; count: number; maxRetries: number }
  /** Fetch one device JWT per device from Themis `GET <url>/issue`. */
  | { type: 'tokens'; url: string; firstId: number; count: number; concurrency: number }
  | { type: 'status' }
  /** Drop every connection, keep the process. */
  | { type: 'disconnect' }
  /** Drop every connection and exit. */
  | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'tokens'; count: number; failed: number; ms: number }
  | {
      type: 'connected';
      open: number;
      failed: number;
      retries: number;
      ms: number;
      /** Per opened device: ms from the connect order until its socket opened. */
      times: number[];
      /** The first failure's message, if any. */
      error?: string;
      /** Failed attempts (retried or not) by `<server>: <code or HTTP status>`. */
      reasons: Record<string, number>;
      /** Sum over devices of the time spent waiting before a retry. */
      backoffMs: number;
    }
  | { type: 'status'; open: number; failed: number; dropped: number; echoed: number }
  | { type: 'disconnected' }
  | { type: 'closed' };

/** The device id of simulated device number `n`: `mac:` and 12 hex digits. */
export function deviceId(n: number): string {
  return `mac:${n.toString(16).padStart(12, '0')}`;
}
