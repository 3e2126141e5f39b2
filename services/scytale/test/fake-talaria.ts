import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Behaviour = (req: Received, res: ServerResponse) => void;

/** Talaria's answer for a device it does not hold. */
export const notFound: Behaviour = (_req, res) => {
  res.writeHead(404, {
    'content-type': 'application/json',
    'x-xmidt-message-error': 'device not found',
  });
  res.end(
    JSON.stringify({ code: 404, message: 'Could not process device request: device not found' }),
  );
};

/**
 * A small real HTTP server playing Talaria's `/api/v2/device/send` and stat routes for the
 * tests; what it answers is set per test through `behave`.
 */
export class FakeTalaria {
  readonly received: Received[] = [];
  behave: Behaviour = notFound;
  private readonly hanging = new Set<ServerResponse>();
  private constructor(
    readonly server: Server,
    readonly url: string,
  ) {}

  static async start(host: string): Promise<FakeTalaria> {
    const box: { self?: FakeTalaria } = {};
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        box.self!.received.push(r);
        box.self!.behave(r, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    box.self = new FakeTalaria(server, `http://${host}:${port}`);
    return box.self;
  }

  /** A behaviour that never answers (until close()). */
  hang(): Behaviour {
    return (_req, res) => {
      this.hanging.add(res);
    };
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
