// The receiving end of the fan-out scenario, in its own process: `http` counts the requests
// of every webhook (any path, 200 each); `mqtt <host> <port> <n>` holds n MQTT subscribers on
// `event/#` and counts what they receive. Reports its count over IPC every 20 ms.
//   node --import tsx bench/lib/sink.ts http | mqtt HOST PORT N
import { createServer } from 'node:http';
import { MqttClient } from './mqtt.js';

let count = 0;
const report = (): void => void process.send?.({ count });
setInterval(report, 20).unref();
process.on('disconnect', () => process.exit(0));

const [mode, host, port, n] = process.argv.slice(2);
if (mode === 'http') {
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      count++;
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const addr = server.address();
    process.send?.({ port: typeof addr === 'object' && addr ? addr.port : 0 });
  });
} else if (mode === 'mqtt') {
  const clients = await Promise.all(
    Array.from({ length: Number(n) }, (_, i) =>
      MqttClient.connect({
        host: host ?? '127.0.0.1',
        port: Number(port),
        clientId: `sink-${process.pid}-${i}`,
        keepAlive: 45,
        version: 4,
      }),
    ),
  );
  for (const c of clients) {
    c.onMessage = () => void count++;
    await c.subscribe('event/#');
  }
  process.send?.({ port: 0 });
} else {
  throw new Error(`sink: unknown mode ${mode}`);
}
