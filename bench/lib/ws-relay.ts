// The request-response baseline: a minimal relay with no WRP. Devices connect over websocket
// naming themselves in X-Webpa-Device-Name; `POST /relay/<device id>` sends the body to that
// device as one binary message and answers 200 with the device's next message (one request at
// a time per device is queued in order). Prints `{"port":N}` once listening.
//   node --import tsx bench/lib/ws-relay.ts
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

interface Device {
  ws: WebSocket;
  waiting: Array<(reply: Buffer | undefined) => void>;
}

const devices = new Map<string, Device>();
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
});

const server = createServer((req, res) => {
  const id = req.method === 'POST' && req.url?.startsWith('/relay/') ? req.url.slice(7) : '';
  const device = devices.get(decodeURIComponent(id));
  if (!device) {
    req.resume();
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    device.waiting.push((reply) => {
      if (!reply) res.writeHead(502).end();
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(reply);
    });
    device.ws.send(Buffer.concat(chunks), { binary: true });
  });
});
server.on('upgrade', (req, socket, head) => {
  const name = req.headers['x-webpa-device-name'];
  socket.on('error', () => undefined);
  if (typeof name !== 'string') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const d: Device = { ws, waiting: [] };
    devices.set(name, d);
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => d.waiting.shift()?.(data));
    ws.on('close', () => {
      if (devices.get(name) === d) devices.delete(name);
      for (const w of d.waiting.splice(0)) w(undefined);
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const addr = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`,
  );
});
const stop = (): void => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
