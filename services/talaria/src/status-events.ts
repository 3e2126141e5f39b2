import { MessageType, JSON_CONTENT_TYPE } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import type { DeviceConnection } from './device-connection.js';
import { formatUptime, renderCloseReason } from './device-connection.js';

/** Convey key -> status-event metadata key, as in the original. */
const CONVEY_KEYS: ReadonlyArray<[string, string]> = [
  ['boot-time', '/boot-time'],
  ['hw-model', '/hw-model'],
  ['hw-manufacturer', '/hw-manufacturer'],
  ['hw-serial-number', '/hw-serial-number'],
  ['hw-last-reboot-reason', '/hw-last-reboot-reason'],
  ['fw-name', '/fw-name'],
  ['last-reconnect-reason', '/last-reconnect-reason'],
  ['webpa-last-reconnect-reason', '/last-reconnect-reason'],
  ['webpa-protocol', '/protocol'],
  ['webpa-interface-used', '/interface-used'],
  ['boot-time-retry-wait', '/boot-time-retry-wait'],
  ['webpa-interface-label', '/webpa-interface-label'],
  ['wan-ipv4-address', '/wan-ipv4-address'],
];

/** RFC3339 with fractional seconds, trailing zeros trimmed (Go's RFC3339Nano), in UTC. */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '';
}

function statusMetadata(conn: DeviceConnection, now: number): Record<string, string> {
  const info = conn.info;
  const md: Record<string, string> = {};
  let present = 0;
  if (info.convey) {
    for (const [key, mdKey] of CONVEY_KEYS) {
      const v = info.convey[key];
      if (v === undefined) continue;
      present++;
      md[mdKey] = scalar(v);
    }
  }
  md['/compliance'] = present === CONVEY_KEYS.length ? info.compliance : 'convey-missing-fields';
  md['/trust'] = String(info.trust);
  md['/account-id'] = info.accountId;
  md['/hw-deviceid'] = info.id;
  md['/intermediate-context'] = info.intermediateContext;
  md['/xmidt-timestamp'] = rfc3339Nano(now);
  return md;
}

export function onlineEvent(conn: DeviceConnection, source: string, now = Date.now()): Message {
  const payload = JSON.stringify({ id: conn.id, ts: rfc3339Nano(now) }, null, '\t');
  return statusEvent(conn, source, 'online', payload, now);
}

export function offlineEvent(conn: DeviceConnection, source: string, now = Date.now()): Message {
  const payload = JSON.stringify({
    id: conn.id,
    ts: rfc3339Nano(now),
    'bytes-sent': conn.bytesSent,
    'messages-sent': conn.messagesSent,
    'bytes-received': conn.bytesReceived,
    'messages-received': conn.messagesReceived,
    'connected-at': rfc3339Nano(conn.connectedAt),
    'up-time': formatUptime(now - conn.connectedAt),
    'reason-for-closure': renderCloseReason(conn.closeReason),
  });
  return statusEvent(conn, source, 'offline', payload, now);
}

/** The `dest` of a device's online or offline event. */
export function statusDest(id: string, kind: 'online' | 'offline'): string {
  return `event:device-status/${id}/${kind}`;
}

function statusEvent(
  conn: DeviceConnection,
  source: string,
  kind: 'online' | 'offline',
  payload: string,
  now: number,
): Message {
  return {
    msgType: MessageType.SimpleEvent,
    source,
    dest: statusDest(conn.id, kind),
    contentType: JSON_CONTENT_TYPE,
    partnerIds: conn.info.partnerIds,
    sessionId: conn.info.sessionId,
    metadata: statusMetadata(conn, now),
    payload: Buffer.from(payload, 'utf8'),
  };
}
