// Entry point of a Themis issuer worker (Node cluster): serves /issue and /claims on the shared
// issuer port with the key the primary sends over IPC.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { createLogger } from '@xmidt/runtime';
import { isSigningAlgorithm } from './algorithms.js';
import type { ThemisConfig } from './config.js';
import { buildIssuer } from './issuer.js';
import type { SigningKey } from './signer.js';
import { WORKER_CONFIG_ENV, type PrimaryMessage, type WorkerMessage } from './worker-protocol.js';

const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? '{}') as ThemisConfig;
const logger = createLogger({ service: 'themis', level: config.log.level }).child({
  worker: process.pid,
});
const send = (m: WorkerMessage) => process.send?.(m);

let active: SigningKey | undefined;
const firstKey = new Promise<void>((resolve) => {
  process.on('message', (m: PrimaryMessage) => {
    if (m?.type !== 'themis:key' || !isSigningAlgorithm(m.key.alg)) return;
    const privateKey = createPrivateKey(m.key.privateKey);
    active = {
      kid: m.key.kid,
      alg: m.key.alg,
      privateKey,
      publicKey: createPublicKey(privateKey),
      createdAt: m.key.createdAt,
    };
    resolve();
  });
});
send({ type: 'themis:hello' });

const issued = new Map<string, number>();
const trust = new Map<string, number>();
const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const flush = () => {
  if (issued.size === 0 && trust.size === 0) return;
  send({
    type: 'themis:metrics',
    issued: [...issued].map(([k, n]) => {
      const [alg = '', outcome] = k.split('\u0000');
      return [alg, outcome === 'failure' ? 'failure' : 'success', n];
    }),
    trust: [...trust].map(([k, n]) => {
      const [t = '0', reason = ''] = k.split('\u0000');
      return [Number(t), reason, n];
    }),
  });
  issued.clear();
  trust.clear();
};
const timer = setInterval(flush, 1000);
timer.unref();

const app = buildIssuer(
  config,
  logger,
  {
    active: () => {
      if (!active) throw new Error('no key yet');
      return active;
    },
  },
  {
    issued: (alg, outcome) => bump(issued, `${alg}\u0000${outcome}`),
    trust: (t, reason) => bump(trust, `${t}\u0000${reason}`),
  },
);

await firstKey;
const ic = config.servers.issuer;
const port = await app.listen(ic.host, ic.port);
send({ type: 'themis:ready', port });

// The primary disconnects to stop a worker: finish in-flight requests, then exit.
process.on('disconnect', () => {
  clearInterval(timer);
  void app.close().then(() => process.exit(0));
});
