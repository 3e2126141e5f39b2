import { parseDeviceId } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import type { DeviceRegistry } from './device-registry.js';
import { isTransactionType } from './device-manager.js';
import {
  deviceNotFound,
  invalidDeviceName,
  transactionDuplicate,
  transactionTimeout,
} from './errors.js';

export interface Reply {
  msg: Message;
  bytes: Buffer;
}

/**
 * Sends `frame` (the msgpack encoding of `msg`) to the device named by `msg.dest`. For
 * transactional messages (types 3, 5-8 with a transaction_uuid) waits for the device's reply with
 * the same uuid. The whole exchange is bounded by `timeoutMs`.
 */
export async function sendToDevice(
  registry: DeviceRegistry,
  msg: Message,
  frame: Buffer,
  timeoutMs: number,
): Promise<Reply | undefined> {
  let id: string;
  try {
    id = parseDeviceId(msg.dest ?? '');
  } catch {
    throw invalidDeviceName();
  }
  const conn = registry.get(id);
  if (!conn) throw deviceNotFound();
  const uuid = isTransactionType(msg.msgType) ? msg.transactionUuid : undefined;

  let reply: Promise<Reply> | undefined;
  if (uuid) {
    let added = false;
    reply = new Promise<Reply>((resolve, reject) => {
      added = conn.addTransaction(uuid, { resolve, reject });
    });
    if (!added) throw transactionDuplicate();
    reply.catch(() => undefined);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(transactionTimeout()), timeoutMs);
  });
  timeout.catch(() => undefined);
  try {
    await Promise.race([conn.send(frame), timeout]);
    if (!reply) return undefined;
    return await Promise.race([reply, timeout]);
  } finally {
    clearTimeout(timer);
    if (uuid) conn.removeTransaction(uuid);
  }
}
