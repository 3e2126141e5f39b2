import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeMsgpack, type Message } from '@xmidt/wrp';

/** A small real websocket "cloud": accepts the device and collects the WRP messages it sends. */
export interface Cloud {
  url: string;
  requests: IncomingMessage[];
  socket(): Promise<WebSocket>;
  /** Resolves with the next message from the device that matches `pred`. */
  next(pred?: (m: Message) => boolean, timeoutMs?: number): Promise<Message>;
  close(): Promise<void>;
}

export async function startCloud(): Promise<Cloud> {
  const wss = new WebSocketServer({ noServer: true });
  const requests: IncomingMessage[] = [];
  const received: Message[] = [];
  const waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  let current: WebSocket | undefined;
  const socketWaiters: ((ws: WebSocket) => void)[] = [];
  const server = createServer((_q, res) => res.end());
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    requests.push(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      current = ws;
      ws.on('message', (data: Buffer) => {
        const m = decodeMsgpack(data);
        const i = waiters.findIndex((w) => w.pred(m));
        if (i >= 0) waiters.splice(i, 1)[0]?.resolve(m);
        else received.push(m);
      });
      for (const w of socketWaiters.splice(0)) w(ws);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    socket: () =>
      current !== undefined && current.readyState === 1
        ? Promise.resolve(current)
        : new Promise((r) => socketWaiters.push(r)),
    next: (pred = () => true, timeoutMs = 5000) => {
      const i = received.findIndex(pred);
      if (i >= 0) return Promise.resolve(received.splice(i, 1)[0] as Message);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('timed out waiting for a message')),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms = 5000, what = 'result'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
