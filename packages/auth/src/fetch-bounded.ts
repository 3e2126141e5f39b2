export interface FetchedBody {
  status: number;
  contentType: string;
  body: Buffer;
}

export class FetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchError';
  }
}

/** GET with a deadline, no redirects, and a bound on the response size. */
export async function fetchBounded(
  url: string,
  opts: { timeoutMs: number; maxBytes: number; accept?: string },
): Promise<FetchedBody> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'GET',
      redirect: 'error',
      signal,
      headers: opts.accept ? { accept: opts.accept } : {},
    });
  } catch (err) {
    throw new FetchError(`fetching ${url} failed`, { cause: err });
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > opts.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new FetchError(`response from ${url} larger than ${opts.maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.byteLength;
        if (total > opts.maxBytes) {
          await res.body.cancel().catch(() => undefined);
          throw new FetchError(`response from ${url} larger than ${opts.maxBytes} bytes`);
        }
        chunks.push(Buffer.from(chunk));
      }
    }
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw new FetchError(`reading ${url} failed`, { cause: err });
  }
  return {
    status: res.status,
    contentType: (res.headers.get('content-type') ?? '').toLowerCase(),
    body: Buffer.concat(chunks),
  };
}
