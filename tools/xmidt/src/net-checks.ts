import { createServer } from 'node:net';
import { request } from 'undici';

/** Whether `port` can be bound on `host` right now. */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Whether GET `url` answers 200 within a second. */
export async function answers200(url: string): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls each URL until it answers 200. Resolves with the URLs still not answering when the
 * deadline passed or `cancelled()` became true (empty: all ready).
 */
export async function waitAll200(
  urls: readonly string[],
  timeoutMs: number,
  cancelled: () => boolean = () => false,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...urls];
  while (pending.length > 0 && Date.now() < deadline && !cancelled()) {
    const results = await Promise.all(pending.map(answers200));
    pending = pending.filter((_, i) => !results[i]);
    if (pending.length > 0) await sleep(200);
  }
  return pending;
}
