import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import {
  decodeMsgpack,
  encodeMsgpack,
  MessageType,
  validateMessage,
  WrpError,
  type Message,
} from '@xmidt/wrp';
import { apiAuthorization } from '../api-auth.js';
import { printMessage } from '../print-message.js';

const HELP = `xmidt send — build a WRP message and send it to a device through Scytale

Usage: xmidt send --dest LOCATOR [options]

  --dest LOCATOR          device locator and service, e.g. mac:112233445566/config (required)
  --type TYPE             req (default), event, create, retrieve, update, delete
  --source LOCATOR        source locator (default dns:xmidt-cli)
  --payload TEXT          payload text
  --payload-file FILE     payload from a file (binary safe)
  --content-type TYPE     payload content type (default application/json)
  --path PATH             CRUD path
  --transaction-uuid ID   transaction id (default: a random UUID for req and CRUD)
  --url URL               Scytale base URL (default http://127.0.0.1:6300)
  --auth USER:PASS        API credentials (default: $XMIDT_API_AUTH)
  --timeout SECONDS       how long to wait for the reply (default 40)
  --help                  this text

The reply is printed decoded, its payload as text when it is UTF-8, else base64.
`;

const TYPES: Record<string, number> = {
  req: MessageType.SimpleRequestResponse,
  event: MessageType.SimpleEvent,
  create: MessageType.Create,
  retrieve: MessageType.Retrieve,
  update: MessageType.Update,
  delete: MessageType.Delete,
};

export async function runSend(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      dest: { type: 'string' },
      type: { type: 'string', default: 'req' },
      source: { type: 'string', default: 'dns:xmidt-cli' },
      payload: { type: 'string' },
      'payload-file': { type: 'string' },
      'content-type': { type: 'string', default: 'application/json' },
      path: { type: 'string' },
      'transaction-uuid': { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:6300' },
      auth: { type: 'string' },
      timeout: { type: 'string', default: '40' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.dest === undefined) {
    process.stderr.write('xmidt send: --dest is required (e.g. --dest mac:112233445566/config)\n');
    return 2;
  }
  const msgType = TYPES[values.type];
  if (msgType === undefined) {
    process.stderr.write(
      `xmidt send: unknown --type ${values.type}; use one of ${Object.keys(TYPES).join(', ')}\n`,
    );
    return 2;
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    process.stderr.write('xmidt send: --timeout must be a positive number of seconds\n');
    return 2;
  }
  let payload: Uint8Array | undefined;
  if (values['payload-file'] !== undefined) payload = await readFile(values['payload-file']);
  else if (values.payload !== undefined) payload = Buffer.from(values.payload);

  const message: Message = {
    msgType,
    source: values.source,
    dest: values.dest,
    contentType: values['content-type'],
    ...(payload === undefined ? {} : { payload }),
    ...(values.path === undefined ? {} : { path: values.path }),
  };
  if (msgType !== MessageType.SimpleEvent) {
    message.transactionUuid = values['transaction-uuid'] ?? randomUUID();
  }
  try {
    validateMessage(message);
  } catch (err) {
    if (err instanceof WrpError) {
      process.stderr.write(`xmidt send: invalid message: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const headers: Record<string, string> = {
    'content-type': 'application/msgpack',
    accept: 'application/msgpack',
  };
  const authorization = apiAuthorization(values.auth);
  if (authorization !== undefined) headers['authorization'] = authorization;
  const target = new URL('/api/v3/device', values.url);
  let response;
  try {
    response = await request(target, {
      method: 'POST',
      headers,
      body: encodeMsgpack(message),
      headersTimeout: timeoutSeconds * 1000,
      bodyTimeout: timeoutSeconds * 1000,
    });
  } catch (err) {
    process.stderr.write(
      `xmidt send: cannot reach Scytale at ${target.origin}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  const body = Buffer.from(await response.body.arrayBuffer());
  const contentType = String(response.headers['content-type'] ?? '');
  if (response.statusCode >= 400) {
    const hint =
      response.statusCode === 404
        ? `\n${values.dest.split('/')[0] ?? ''} is not connected (xmidt simulate connects simulated devices)`
        : response.statusCode === 401 || response.statusCode === 403
          ? '\ncheck the credentials: --auth user:pass or XMIDT_API_AUTH (xmidt start prints them)'
          : '';
    process.stderr.write(
      `xmidt send: HTTP ${response.statusCode}: ${body.toString('utf8').trim()}${hint}\n`,
    );
    return 1;
  }
  if (contentType.startsWith('application/msgpack') && body.length > 0) {
    try {
      printMessage(decodeMsgpack(body));
    } catch (err) {
      process.stderr.write(`xmidt send: the reply is not valid WRP: ${(err as Error).message}\n`);
      return 1;
    }
  } else {
    process.stdout.write(
      `HTTP ${response.statusCode}${body.length > 0 ? `\n${body.toString('utf8')}` : ''}\n`,
    );
  }
  return 0;
}
