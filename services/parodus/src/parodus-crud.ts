import { MessageType, type Message } from '@xmidt/wrp';
import { WEBPA_UUID, type ParodusConfig } from './config.js';
import { destRest } from './dest-service.js';

/** What the built-in `parodus` service reads from the running agent. */
export interface CrudState {
  config: ParodusConfig;
  webpaProtocol: string;
  cloudStatus(): 'online' | 'offline';
  serviceRegistered(name: string): boolean;
  /** Closes the websocket and reconnects later with `reason` (UPDATE …/parodus/cloud-disconnect). */
  cloudDisconnect(reason: string): void;
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value), 'utf8');

/** Value of a read-only key, or undefined when unknown or empty (Parodus answers 400 for both). */
function retrieveKey(state: CrudState, key: string): string | number | undefined {
  const c = state.config;
  const strings: Record<string, string> = {
    'hw-model': c.hwModel,
    'hw-serial-number': c.hwSerialNumber,
    'hw-manufacturer': c.hwManufacturer,
    'hw-mac': c.hwMac,
    'hw-last-reboot-reason': c.hwLastRebootReason,
    'fw-name': c.fwName,
    'webpa-interface-used': c.webpaInterfaceUsed,
    'webpa-url': c.webpaUrl,
    'webpa-protocol': state.webpaProtocol,
    'webpa-uuid': WEBPA_UUID,
  };
  if (key in strings) {
    const v = strings[key];
    return v === undefined || v === '' ? undefined : v;
  }
  switch (key) {
    case 'cloud-status':
      return state.cloudStatus();
    case 'boot-time':
      return c.bootTime;
    case 'webpa-ping-timeout':
      return c.webpaPingTimeout;
    case 'webpa-backoff-max':
      return c.webpaBackoffMax;
    default:
      return undefined;
  }
}

/**
 * Parodus' own CRUD service (`dest = mac:<id>/parodus/...`). Returns the reply: same msg_type,
 * source = request dest, dest = request source, same transaction_uuid, `status` and `rdr` 0.
 * Supported: RETRIEVE of the read-only keys (incl. `cloud-status`),
 * RETRIEVE `service-status/<svc>`, UPDATE `cloud-disconnect`. Anything else: 400.
 */
export function handleParodusCrud(msg: Message, state: CrudState): Message {
  const reply = (status: number, payload?: unknown): Message => ({
    msgType: msg.msgType,
    ...(msg.dest !== undefined ? { source: msg.dest } : {}),
    ...(msg.source !== undefined ? { dest: msg.source } : {}),
    ...(msg.transactionUuid !== undefined ? { transactionUuid: msg.transactionUuid } : {}),
    ...(msg.path !== undefined ? { path: msg.path } : {}),
    status,
    rdr: 0,
    ...(payload !== undefined ? { contentType: 'application/json', payload: json(payload) } : {}),
  });
  const rest = destRest(msg.dest);
  const key = rest[0] ?? '';
  if (msg.msgType === MessageType.Retrieve) {
    if (key === 'service-status' && rest.length === 2) {
      const svc = rest[1] as string;
      return reply(200, { 'service-status': state.serviceRegistered(svc) ? 'online' : 'offline' });
    }
    if (rest.length !== 1) return reply(400);
    const value = retrieveKey(state, key);
    return value === undefined ? reply(400) : reply(200, { [key]: value });
  }
  if (msg.msgType === MessageType.Update && key === 'cloud-disconnect' && rest.length === 1) {
    let reason: unknown;
    try {
      const body: unknown = JSON.parse(
        Buffer.from(msg.payload ?? new Uint8Array()).toString('utf8'),
      );
      reason = (body as { 'disconnection-reason'?: unknown } | null)?.['disconnection-reason'];
    } catch {
      return reply(400);
    }
    if (typeof reason !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(reason)) return reply(400);
    state.cloudDisconnect(reason);
    return reply(200);
  }
  return reply(400);
}
