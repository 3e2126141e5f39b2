import { once } from 'node:events';
import { connect } from 'node:net';

export interface RawAnswer {
  /** Status line, e.g. `HTTP/1.1 200 OK`. */
  status: string;
  /** Header lines as sent (names as written). */
  head: string;
  /** Lower-cased header name → value (the last one when repeated). */
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes `bytes` on one new connection to 127.0.0.1:`port` and reads `count` answers (bodies by
 * Content-Length; `bodiless` lists the answers, by index, to HEAD requests). Resolves early with
 * what it has if the server closes the connection; `closed` tells whether it did.
 */
export async function rawExchange(
  port: number,
  bytes: string | Buffer,
  count: number,
  bodiless: number[] = [],
): Promise<{ answers: RawAnswer[]; closed: boolean }> {
  const sock = connect(port, '127.0.0.1');
  try {
    await once(sock, 'connect');
    sock.write(bytes);
    const answers: RawAnswer[] = [];
    let buf = '';
    sock.setEncoding('latin1');
    for await (const chunk of sock) {
      buf += chunk as string;
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = buf.slice(0, end);
        const headers: Record<string, string> = {};
        for (const line of head.split('\r\n').slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const len = bodiless.includes(answers.length) ? 0 : Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + len) break;
        answers.push({
          status: head.split('\r\n')[0] ?? '',
          head,
          headers,
          body: buf.slice(end + 4, end + 4 + len),
        });
        buf = buf.slice(end + 4 + len);
      }
      if (answers.length === count) return { answers, closed: false };
    }
    return { answers, closed: true };
  } finally {
    sock.destroy();
  }
}
