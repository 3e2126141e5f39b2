import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig } from '@xmidt/runtime';
import { createThemis, themisConfigSchema } from '@xmidt/themis';
import type { Themis } from '@xmidt/themis';

export interface RunningThemis {
  themis: Themis;
  /** `http://127.0.0.1:<key port>/keys/{kid}`: the key URL template for a verifier. */
  keysUrl: string;
  /** Fetches a token from `GET /issue`. */
  issue(): Promise<string>;
  stop(): Promise<void>;
}

/** A real Themis in this process on loopback ports chosen by the system, keys in a temp dir. */
export async function startThemis(
  claims: readonly Record<string, unknown>[],
): Promise<RunningThemis> {
  const dir = mkdtempSync(join(tmpdir(), 'scytale-themis-'));
  const listener = { host: '127.0.0.1', port: 0 };
  const config = loadConfig({
    service: 'themis',
    schema: themisConfigSchema,
    env: {},
    overrides: {
      log: { level: 'silent' },
      servers: { key: listener, issuer: listener, admin: listener },
      token: { key: { directory: join(dir, 'keys'), kid: 'scytale-test' }, claims },
    },
  });
  const themis = await createThemis(config, {
    logger: createLogger({ service: 'themis', level: 'silent' }),
    shutdownTimeoutMs: 2000,
  });
  const ports = await themis.start();
  return {
    themis,
    keysUrl: `http://127.0.0.1:${ports.keyPort}/keys/{kid}`,
    async issue() {
      const res = await fetch(`http://127.0.0.1:${ports.issuerPort}/issue`);
      if (res.status !== 200) throw new Error(`themis /issue answered ${res.status}`);
      return res.text();
    },
    async stop() {
      await themis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
