// The comparison server: accepts websocket upgrades and does nothing else (no pings, no
// tracking, no parsing of the device headers). Prints `{"port":N}` on stdout once listening.
//   node --import tsx bench/lib/bare-ws-server.ts [--host 127.0.0.1] [--backlog N]
// The listen backlog defaults to 65535, as the services' listeners ask for (the kernel caps it).
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, backlog: { type: 'string' } },
});
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
});
const noop = (): void => {};
const server = createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', (req, socket, head) => {
  socket.on('error', noop);
  wss.handleUpgrade(req, socket, head, (ws) => ws.on('error', noop));
});
server.listen({ port: 0, host: values.host, backlog: Number(values.backlog ?? 65535) }, () => {
  const addr = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`,
  );
});
const stop = (): void => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
