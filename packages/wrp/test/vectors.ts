import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Message } from '../src/index.js';

export interface Vector {
  kind: 'msgpack' | 'json' | 'http-headers';
  name: string;
  direction: string;
  source?: string;
  message: Record<string, unknown> | null;
  msgpack_hex?: string;
  json?: string;
  http?: Record<string, string[]>;
  body?: string;
  wrp_go_v5_would?: string;
  notes?: string;
}

/** The repository root: the nearest ancestor holding `.ci/`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, '.ci'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (.ci/) not found');
    dir = up;
  }
  return dir;
}

export function loadVectors(): Vector[] {
  const file = join(repoRoot(), '..', 'shared', 'vectors', 'wrp.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Vector[];
}

const CAMEL: Record<string, keyof Message> = {
  msg_type: 'msgType',
  source: 'source',
  dest: 'dest',
  transaction_uuid: 'transactionUuid',
  content_type: 'contentType',
  accept: 'accept',
  status: 'status',
  rdr: 'rdr',
  headers: 'headers',
  metadata: 'metadata',
  path: 'path',
  payload: 'payload',
  service_name: 'serviceName',
  url: 'url',
  partner_ids: 'partnerIds',
  session_id: 'sessionId',
  qos: 'qos',
};

/**
 * The fields a vector lists, as a Message. Keys the model does not carry (`spans`,
 * `include_spans`, `msg_id`, unknown ones) are dropped; a nil metadata value reads as ''.
 */
export function expectedMessage(wire: Record<string, unknown>): Message {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) {
    const field = CAMEL[key];
    if (field === undefined) continue;
    if (field === 'payload') {
      out[field] = new Uint8Array(Buffer.from(value as string, 'base64'));
    } else if (field === 'metadata') {
      out[field] = Object.fromEntries(
        Object.entries(value as Record<string, string | null>).map(([k, v]) => [k, v ?? '']),
      );
    } else {
      out[field] = value;
    }
  }
  return out as unknown as Message;
}

/** Plain comparable form: payload as a plain Uint8Array, keys in a fixed order. */
export function plain(m: Message): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.values(CAMEL)) {
    const v = m[k];
    if (v === undefined) continue;
    out[k] = v instanceof Uint8Array ? Array.from(v) : v;
  }
  return out;
}
