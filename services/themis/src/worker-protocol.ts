/** Messages between the Themis primary and its issuer workers (cluster IPC). */
export interface WireKey {
  kid: string;
  alg: string;
  createdAt: number;
  /** PKCS#8 PEM; travels only over the local IPC channel. */
  privateKey: string;
}

export type PrimaryMessage = { type: 'themis:key'; key: WireKey };

export type WorkerMessage =
  /** Sent once the worker listens for messages; the primary answers with the active key. */
  | { type: 'themis:hello' }
  | { type: 'themis:ready'; port: number }
  | {
      type: 'themis:metrics';
      issued: [alg: string, outcome: 'success' | 'failure', n: number][];
      trust: [trust: number, reason: string, n: number][];
    };

export const WORKER_CONFIG_ENV = 'THEMIS_WORKER_CONFIG';
