import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PullSocket } from '../src/index.js';

export const PUSH_HEADER = Buffer.from([0x00, 0x53, 0x50, 0x00, 0x00, 0x50, 0x00, 0x00]);
export const PULL_HEADER = Buffer.from([0x00, 0x53, 0x50, 0x00, 0x00, 0x51, 0x00, 0x00]);

export function frame(body: Buffer | string): Buffer {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64BE(BigInt(data.length));
  return Buffer.concat([prefix, data]);
}

/** Reads from a socket until `n` bytes have arrived. */
export function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= n) {
        socket.off('data', onData);
        socket.off('close', onClose);
        const all = Buffer.concat(chunks);
        if (all.length > n) socket.unshift(all.subarray(n));
        resolve(all.subarray(0, n));
      }
    };
    const onClose = (): void => reject(new Error(`socket closed after ${total} of ${n} bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** A raw TCP client (no SP logic) connected to `port`. */
export async function rawClient(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  return socket;
}

/** A raw TCP server on a free loopback port; resolves with it and its port. */
export async function rawServer(
  onSocket: (socket: Socket) => void,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port that nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const { port, close } = await rawServer(() => {});
  await close();
  return port;
}

/** Collects the next `n` messages a PULL socket emits. */
export function collect(pull: PullSocket, n: number): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const onMessage = (body: Buffer): void => {
      got.push(body);
      if (got.length === n) {
        pull.off('message', onMessage);
        resolve(got);
      }
    };
    pull.on('message', onMessage);
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function boundPull(
  options: ConstructorParameters<typeof PullSocket>[0] = {},
): Promise<PullSocket> {
  const pull = new PullSocket(options);
  await pull.bind('tcp://127.0.0.1:0');
  return pull;
}

/** Resolves when the peer has closed `socket` (reads and discards whatever it sent first). */
export function whenClosed(socket: Socket): Promise<void> {
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  socket.resume();
  return closed;
}
