import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig } from '@xmidt/runtime';
import { createThemis, themisConfigSchema, type Themis, type ThemisPorts } from '../src/index.js';

export function tempDir(prefix = 'themis-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Themis in-process on loopback port 0 with the given config overrides. */
export async function startThemis(
  overrides: Record<string, unknown>,
): Promise<{ themis: Themis; ports: ThemisPorts; stop(): Promise<void> }> {
  const listeners = {
    key: { host: '127.0.0.1', port: 0 },
    issuer: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
  };
  const given = (overrides['servers'] ?? {}) as Record<string, Record<string, unknown>>;
  const servers = {
    key: { ...listeners.key, ...given['key'] },
    issuer: { ...listeners.issuer, ...given['issuer'] },
    admin: { ...listeners.admin, ...given['admin'] },
  };
  const config = loadConfig({
    service: 'themis',
    schema: themisConfigSchema,
    env: {},
    overrides: { log: { level: 'warn' }, ...overrides, servers },
  });
  const themis = await createThemis(config, {
    logger: createLogger({ service: 'themis', level: 'silent' }),
    shutdownTimeoutMs: 2000,
  });
  const ports = await themis.start();
  return { themis, ports, stop: () => themis.stop() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
