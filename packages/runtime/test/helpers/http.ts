import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET over a fresh connection (no agent pooling), plain HTTP or HTTPS. */
export function get(
  port: number,
  path: string,
  tls?: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'servername'>,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, method: 'GET', agent: false as const };
    const req = tls ? httpsRequest({ ...options, ...tls }) : httpRequest(options);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
