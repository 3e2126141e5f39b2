import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One running instance of a service, as written to system.json. */
export interface InstanceEntry {
  /** Primary listener (Themis: the key server). */
  url: string;
  /** Admin listener: /health, /ready, /metrics. */
  admin: string;
  pid: number;
  /** The YAML the instance was started with. */
  config: string;
  /** Themis only: the issuer listener (/issue, /claims). */
  issuer?: string;
}

/**
 * DIR/system.json, written when every service answers /ready: how to reach the system.
 * Other tools (end-to-end tests, scripts) read it; its shape is a contract.
 */
export interface SystemFile {
  /** `user:pass` accepted as Basic by Scytale, Talaria and Caduceus. */
  apiAuth: string;
  services: Record<string, InstanceEntry[]>;
  /** Cluster mode: the etcd every service uses for discovery. */
  etcd?: { url: string; pid: number; dataDir: string };
}

export const SYSTEM_FILE = 'system.json';

export function systemFilePath(dataDir: string): string {
  return join(dataDir, SYSTEM_FILE);
}

/** Writes system.json atomically (temporary file in the same directory, then rename). */
export async function writeSystemFile(dataDir: string, system: SystemFile): Promise<string> {
  const path = systemFilePath(dataDir);
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(system, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return path;
}

export async function readSystemFile(dataDir: string): Promise<SystemFile | undefined> {
  try {
    return JSON.parse(await readFile(systemFilePath(dataDir), 'utf8')) as SystemFile;
  } catch {
    return undefined;
  }
}

export async function removeSystemFile(dataDir: string): Promise<void> {
  await rm(systemFilePath(dataDir), { force: true });
}
