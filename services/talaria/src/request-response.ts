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
 *
 * Settles with the first of: the send failing (its error), the timeout, or, once the frame has
 * been written, the reply (or its failure, e.g. the device went away). A reply that arrives
 * before the write has completed is held until it has. One promise and one timer per call.
 */
export function sendToDevice(
  registry: DeviceRegistry,
  msg: Message,
  frame: Buffer,
  timeoutMs: number,
): Promise<Reply | undefined> {
  let id: string;
  try {
    id = parseDeviceId(msg.dest ?? '');
  } catch {
    return Promise.reject(invalidDeviceName());
  }
  const conn = registry.get(id);
  if (!conn) return Promise.reject(deviceNotFound());
  const uuid = isTransactionType(msg.msgType) ? msg.transactionUuid : undefined;

  return new Promise<Reply | undefined>((resolve, reject) => {
    let settled = false;
    let added = false;
    let sent = false;
    /** The reply's outcome when it came before the write completed. */
    let early: { reply?: Reply; err?: Error } | undefined;
    const finish = (err: Error | undefined, value: Reply | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (added) conn.removeTransaction(uuid as string);
      if (err) reject(err);
      else resolve(value);
    };
    if (uuid) {
      added = conn.addTransaction(uuid, {
        resolve: (r) => {
          if (sent) finish(undefined, r);
          else early ??= { reply: r };
        },
        reject: (e) => {
          if (sent) finish(e, undefined);
          else early ??= { err: e };
        },
      });
      if (!added) {
        settled = true;
        reject(transactionDuplicate());
        return;
      }
    }
    // (declared here: nothing above can call finish() before the frame is handed over)
    const timer = setTimeout(() => finish(transactionTimeout(), undefined), timeoutMs);
    conn.send(frame).then(
      () => {
        sent = true;
        if (!uuid) finish(undefined, undefined);
        else if (early) finish(early.err, early.reply);
      },
      (err: Error) => finish(err, undefined),
    );
  });
}
