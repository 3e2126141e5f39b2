import { decodeMsgpack, encodeMsgpack, type Message } from '@xmidt/wrp';

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function call(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: Uint8Array | string },
  timeoutMs: number,
): Promise<ApiResponse> {
  const response = await fetch(url, {
    method: init.method,
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/**
 * Sends a WRP message to a device through Scytale (`POST /api/v3/device`, msgpack both ways)
 * with the caller's Basic credentials.
 */
export async function sendThroughScytale(
  scytaleUrl: string,
  authorization: string,
  message: Message,
  timeoutMs = 30_000,
): Promise<ApiResponse & { reply?: Message }> {
  const res = await call(
    `${scytaleUrl}/api/v3/device`,
    {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/msgpack',
        accept: 'application/msgpack',
      },
      body: encodeMsgpack(message),
    },
    timeoutMs,
  );
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 200 && type.startsWith('application/msgpack') && res.body.length > 0) {
    return { ...res, reply: decodeMsgpack(res.body) };
  }
  return res;
}

/** A webhook registration as Caduceus takes it (`POST /api/v3/hook`). */
export interface HookRegistration {
  config: { url: string; content_type?: string; secret?: string; alt_urls?: string[] };
  events: string[];
  matcher?: { device_id: string[] };
  failure_url?: string;
  duration?: string | number;
}

/**
 * `POST /api/v3/hook`. With Basic credentials the registration's partner ids come from
 * `X-Xmidt-Partner-Ids`; Caduceus delivers an event only to webhooks sharing one of its
 * partner ids (as the original does).
 */
export async function registerHook(
  caduceusUrl: string,
  authorization: string,
  registration: HookRegistration,
  partnerIds: readonly string[] = [],
): Promise<ApiResponse> {
  return call(
    `${caduceusUrl}/api/v3/hook`,
    {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/json',
        ...(partnerIds.length > 0 ? { 'x-xmidt-partner-ids': partnerIds.join(',') } : {}),
      },
      body: JSON.stringify(registration),
    },
    10_000,
  );
}

/** `GET /api/v3/hooks`: the registrations' target URLs (throws unless 200). */
export async function listHookUrls(caduceusUrl: string, authorization: string): Promise<string[]> {
  const res = await call(
    `${caduceusUrl}/api/v3/hooks`,
    { method: 'GET', headers: { authorization } },
    10_000,
  );
  if (res.status !== 200) {
    throw new Error(`GET ${caduceusUrl}/api/v3/hooks: ${res.status} ${res.body.toString()}`);
  }
  const list = JSON.parse(res.body.toString('utf8')) as unknown;
  if (!Array.isArray(list)) throw new Error(`hooks list is not an array: ${res.body.toString()}`);
  return list.map((entry) => {
    const hook = entry as { config?: { url?: unknown }; webhook?: { config?: { url?: unknown } } };
    const url = hook.config?.url ?? hook.webhook?.config?.url;
    return typeof url === 'string' ? url : JSON.stringify(entry);
  });
}

/** `GET <admin>/metrics` as text. */
export async function scrapeMetrics(adminUrl: string): Promise<string> {
  const res = await call(`${adminUrl}/metrics`, { method: 'GET' }, 10_000);
  if (res.status !== 200) throw new Error(`GET ${adminUrl}/metrics: ${res.status}`);
  return res.body.toString('utf8');
}

/**
 * The sum of every sample of metric `name` (exact name, any labels) whose labels include
 * `labels`, in Prometheus text. 0 when there is none.
 */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    const ok = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (ok) sum += Number(m[3]);
  }
  return sum;
}

/** `GET <url>` answers 200 (readiness and similar). */
export async function answers200(url: string): Promise<boolean> {
  try {
    const res = await call(url, { method: 'GET' }, 3000);
    return res.status === 200;
  } catch {
    return false;
  }
}
