import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type Decision =
  { kind: 'accept' } | { kind: 'status'; status: number; headers?: Record<string, string> };

export interface TestServer {
  port: number;
  url: string;
  requests: IncomingMessage[];
  sockets: WebSocket[];
  /** Resolves with the next accepted websocket. */
  nextSocket(): Promise<WebSocket>;
  close(): Promise<void>;
}

/** A small real websocket server whose answer to each upgrade request is decided by `decide`. */
export async function startServer(
  decide: (req: IncomingMessage, index: number) => Decision = () => ({ kind: 'accept' }),
): Promise<TestServer> {
  const wss = new WebSocketServer({ noServer: true });
  const requests: IncomingMessage[] = [];
  const sockets: WebSocket[] = [];
  const waiters: ((ws: WebSocket) => void)[] = [];
  const server: Server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = 404;
    res.end();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const index = requests.length;
    requests.push(req);
    const d = decide(req, index);
    if (d.kind === 'status') {
      const extra = Object.entries(d.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(
        `HTTP/1.1 ${d.status} X\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      const w = waiters.shift();
      if (w) w(ws);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    sockets,
    nextSocket: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
      }),
    close: async () => {
      for (const ws of sockets) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits for an event (first argument list) with a deadline so a broken test fails instead of hanging. */
export function waitFor<T>(
  register: (resolve: (v: T) => void) => void,
  timeoutMs = 5000,
  what = 'event',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
