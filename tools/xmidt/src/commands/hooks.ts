import { parseArgs } from 'node:util';
import { request } from 'undici';
import { apiAuthorization } from '../api-auth.js';
import { runHooksListen } from './hooks-listen.js';

const HELP = `xmidt hooks — manage webhook registrations in Caduceus

Usage:
  xmidt hooks add --target URL [--events REGEX ...] [--secret S] [--duration 5m]
                  [--device-id REGEX ...] [--content-type application/msgpack|application/json]
                  [--failure-url URL]
  xmidt hooks list
  xmidt hooks delete --target URL
  xmidt hooks listen [--port 9000] [--secret S]     (a receiver that prints events)

Common options:
  --url URL          Caduceus base URL (default http://127.0.0.1:6000)
  --auth USER:PASS   API credentials (default: $XMIDT_API_AUTH)
  --help             this text

--events defaults to ".*" (every event). --duration is a Go duration or seconds (default 5m).
`;

export async function runHooks(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'listen') return runHooksListen(rest);
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    process.stdout.write(HELP);
    return action === undefined ? 2 : 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      target: { type: 'string' },
      events: { type: 'string', multiple: true },
      'device-id': { type: 'string', multiple: true },
      secret: { type: 'string' },
      duration: { type: 'string', default: '5m' },
      'content-type': { type: 'string', default: 'application/msgpack' },
      'failure-url': { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:6000' },
      auth: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const headers: Record<string, string> = {};
  const authorization = apiAuthorization(values.auth);
  if (authorization !== undefined) headers['authorization'] = authorization;
  const base = values.url;

  let method: 'GET' | 'POST' | 'DELETE';
  let path: string;
  let body: string | undefined;
  switch (action) {
    case 'add': {
      if (values.target === undefined) {
        process.stderr.write(
          'xmidt hooks add: --target URL is required (where events are POSTed)\n',
        );
        return 2;
      }
      const registration = {
        config: {
          url: values.target,
          content_type: values['content-type'],
          ...(values.secret === undefined ? {} : { secret: values.secret }),
        },
        events: values.events ?? ['.*'],
        ...(values['device-id'] === undefined
          ? {}
          : { matcher: { device_id: values['device-id'] } }),
        ...(values['failure-url'] === undefined ? {} : { failure_url: values['failure-url'] }),
        duration: values.duration,
      };
      method = 'POST';
      path = '/api/v3/hook';
      body = JSON.stringify(registration);
      headers['content-type'] = 'application/json';
      break;
    }
    case 'list':
      method = 'GET';
      path = '/api/v3/hooks';
      break;
    case 'delete':
      if (values.target === undefined) {
        process.stderr.write('xmidt hooks delete: --target URL is required\n');
        return 2;
      }
      method = 'DELETE';
      path = `/api/v3/hook?url=${encodeURIComponent(values.target)}`;
      break;
    default:
      process.stderr.write(
        `xmidt hooks: unknown action "${action}"; use add, list, delete or listen\n`,
      );
      return 2;
  }
  const target = new URL(path, base);
  let response;
  try {
    response = await request(target, { method, headers, ...(body === undefined ? {} : { body }) });
  } catch (err) {
    process.stderr.write(
      `xmidt hooks: cannot reach Caduceus at ${target.origin}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  const text = await response.body.text();
  if (response.statusCode >= 400) {
    const hint =
      response.statusCode === 401 || response.statusCode === 403
        ? '\ncheck the credentials: --auth user:pass or XMIDT_API_AUTH (xmidt start prints them)'
        : '';
    process.stderr.write(
      `xmidt hooks ${action}: HTTP ${response.statusCode}: ${text.trim()}${hint}\n`,
    );
    return 1;
  }
  if (action === 'list') {
    try {
      process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    } catch {
      process.stdout.write(`${text}\n`);
    }
  } else {
    process.stdout.write(`${text.trim() === '' ? `HTTP ${response.statusCode}` : text.trim()}\n`);
  }
  return 0;
}
