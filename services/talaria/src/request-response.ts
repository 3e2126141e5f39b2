import { parseDeviceId } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import type { DeviceConnection, Transaction } from './device-connection.js';
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
 * One exchange with a device: settles its promise with the first of the send failing (its
 * error), the timeout, or, once the frame has been written, the reply (or its failure, e.g. the
 * device went away). A reply that arrives before the write has completed is held until it has.
 * A class rather than closures: nothing is allocated per call beyond this object, its timer and
 * the promise.
 */
class Exchange implements Transaction {
  private settled = false;
  private sent = false;
  /** The reply's outcome when it came before the write completed. */
  private early: { reply?: Reply; err?: Error } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly conn: DeviceConnection,
    /** Set when a transaction is registered under it. */
    private readonly uuid: string | undefined,
    private readonly done: (value: Reply | undefined) => void,
    private readonly fail: (err: Error) => void,
  ) {}

  start(frame: Buffer, timeoutMs: number): void {
    this.timer = setTimeout(onTimeout, timeoutMs, this);
    this.conn.send(frame).then(
      () => this.written(),
      (err: Error) => this.finish(err, undefined),
    );
  }

  private written(): void {
    this.sent = true;
    if (this.uuid === undefined) this.finish(undefined, undefined);
    else if (this.early) this.finish(this.early.err, this.early.reply);
  }

  /** Transaction: the device's reply. */
  resolve(reply: Reply): void {
    if (this.sent) this.finish(undefined, reply);
    else this.early ??= { reply };
  }

  /** Transaction: the device went away before replying. */
  reject(err: Error): void {
    if (this.sent) this.finish(err, undefined);
    else this.early ??= { err };
  }

  finish(err: Error | undefined, value: Reply | undefined): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    if (this.uuid !== undefined) this.conn.removeTransaction(this.uuid);
    if (err) this.fail(err);
    else this.done(value);
  }
}

function onTimeout(ex: Exchange): void {
  ex.finish(transactionTimeout(), undefined);
}

/**
 * Sends `frame` (the msgpack encoding of `msg`) to the device named by `msg.dest`. For
 * transactional messages (types 3, 5-8 with a transaction_uuid) waits for the device's reply with
 * the same uuid. The whole exchange is bounded by `timeoutMs`.
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
    const ex = new Exchange(conn, uuid || undefined, resolve, reject);
    if (uuid && !conn.addTransaction(uuid, ex)) {
      reject(transactionDuplicate());
      return;
    }
    ex.start(frame, timeoutMs);
  });
}
