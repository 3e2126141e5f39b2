import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { parseArgs } from 'node:util';
import { verifySignature } from '@xmidt/caduceus';
import { MSGPACK_CONTENT_TYPE, decodeHttpHeaders, decodeMsgpack, type Message } from '@xmidt/wrp';
import { printMessage } from '../print-message.js';

export const HOOKS_LISTEN_HELP = `xmidt hooks listen — a webhook receiver that prints every event it gets

Usage: xmidt hooks listen [--port 9000] [--host 127.0.0.1] [--secret S]

Accepts Caduceus' deliveries on any path, answers 200, and prints each event decoded
(a msgpack body is a whole WRP message; any other body is the payload, with the message's
fields in X-Xmidt-* headers). With --secret, the X-Webpa-Signature of each delivery is
checked and a delivery that does not match is answered 403 and reported.
Stops on Ctrl-C.

  --port N           port to listen on (default 9000)
  --host ADDR        address to bind (default 127.0.0.1)
  --secret S         the secret given to xmidt hooks add --secret
  --max-bytes N      largest body accepted (default 1048576)
  --help             this text
`;

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function decodeDelivery(req: IncomingMessage, body: Buffer): Message {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === MSGPACK_CONTENT_TYPE) return decodeMsgpack(body);
  return decodeHttpHeaders(req.headers, body);
}

/** `xmidt hooks listen`: runs until SIGINT/SIGTERM; returns the exit code. */
export async function runHooksListen(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string', default: '9000' },
      host: { type: 'string', default: '127.0.0.1' },
      secret: { type: 'string' },
      'max-bytes': { type: 'string', default: '1048576' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HOOKS_LISTEN_HELP);
    return 0;
  }
  const port = Number(values.port);
  const limit = Number(values['max-bytes']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`xmidt hooks listen: --port must be 0–65535, got "${values.port}"\n`);
    return 2;
  }
  if (!Number.isInteger(limit) || limit < 1) {
    process.stderr.write('xmidt hooks listen: --max-bytes must be a positive integer\n');
    return 2;
  }
  const secret = values.secret;
  const server = createServer((req, res) => {
    readBody(req, limit).then(
      (body) => {
        if (body === undefined) {
          res.writeHead(413).end();
          process.stderr.write(`refused a delivery larger than ${limit} bytes\n`);
          return;
        }
        if (secret !== undefined && !verifySignature(req.headers, body, [secret])) {
          res.writeHead(403).end();
          process.stderr.write(`refused a delivery to ${req.url ?? '/'}: bad X-Webpa-Signature\n`);
          return;
        }
        res.writeHead(200).end();
        try {
          printMessage(decodeDelivery(req, body));
        } catch (err) {
          process.stderr.write(`a delivery that is not WRP: ${(err as Error).message}\n`);
        }
      },
      () => res.destroy(),
    );
  });
  server.listen(port, values.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    process.stderr.write(
      `xmidt hooks listen: cannot listen on ${values.host}:${port}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  process.stdout.write(`listening for webhook deliveries on http://${values.host}:${bound}/\n`);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  server.close();
  server.closeAllConnections();
  return 0;
}
