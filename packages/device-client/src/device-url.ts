import { DeviceClientError } from './errors.js';

/** The fixed path of the device connect route; any path in a configured or redirect URL is dropped. */
export const DEVICE_PATH = '/api/v2/device';

/**
 * The websocket URL for a server URL or a redirect `Location`: only scheme, host and port are
 * kept (http → ws, https → wss; ws and wss accepted as they are) and the path is always
 * `/api/v2/device`. A relative `Location` is resolved against `base`.
 */
export function deviceUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = base === undefined ? new URL(text) : new URL(text, base);
  } catch (cause) {
    throw new DeviceClientError(
      'device_client_invalid_url',
      `invalid URL ${JSON.stringify(text)}`,
      {
        cause,
      },
    );
  }
  let scheme: string;
  switch (url.protocol) {
    case 'http:':
    case 'ws:':
      scheme = 'ws:';
      break;
    case 'https:':
    case 'wss:':
      scheme = 'wss:';
      break;
    default:
      throw new DeviceClientError(
        'device_client_invalid_url',
        `URL must start with http:// or https://, got ${JSON.stringify(text)}`,
      );
  }
  if (url.hostname === '') {
    throw new DeviceClientError('device_client_invalid_url', `URL has no host: ${text}`);
  }
  const port = url.port === '' ? '' : `:${url.port}`;
  return new URL(`${scheme}//${url.hostname}${port}${DEVICE_PATH}`);
}
