// IPC messages between the benchmark driver (DeviceFleet) and its device-worker processes.

export type WorkerRequest =
  | { type: 'connect'; url: string; firstId: number; count: number; maxRetries: number }
  | { type: 'status' }
  /** Drop every connection, keep the process. */
  | { type: 'disconnect' }
  /** Drop every connection and exit. */
  | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | {
      type: 'connected';
      open: number;
      failed: number;
      retries: number;
      ms: number;
      /** Per opened device: ms from the connect order until its socket opened. */
      times: number[];
    }
  | { type: 'status'; open: number; failed: number; dropped: number; echoed: number }
  | { type: 'disconnected' }
  | { type: 'closed' };

/** The device id of simulated device number `n`: `mac:` and 12 hex digits. */
export function deviceId(n: number): string {
  return `mac:${n.toString(16).padStart(12, '0')}`;
}
