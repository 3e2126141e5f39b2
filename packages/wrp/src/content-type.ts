/** Media types used with WRP over HTTP. */
export const MSGPACK_CONTENT_TYPE = 'application/msgpack';
export const JSON_CONTENT_TYPE = 'application/json';
export const OCTET_STREAM_CONTENT_TYPE = 'application/octet-stream';
/** Deprecated in the original; matched for backwards compatibility only. */
export const WRP_CONTENT_TYPE = 'application/wrp';

export type WrpFormat = 'msgpack' | 'json';

/**
 * Body format named by a Content-Type value, as wrp-go v3 decides it: a value containing `json`
 * is JSON, otherwise one containing `msgpack` is msgpack. An empty or absent value gives
 * `fallback`; anything else (including octet-stream) gives `undefined`.
 */
export function formatFromContentType(
  contentType: string | undefined,
  fallback?: WrpFormat,
): WrpFormat | undefined {
  if (contentType === undefined || contentType === '') return fallback;
  if (contentType.includes('json')) return 'json';
  if (contentType.includes('msgpack')) return 'msgpack';
  return undefined;
}

/** The Content-Type for a body format. */
export function contentTypeOf(format: WrpFormat): string {
  return format === 'json' ? JSON_CONTENT_TYPE : MSGPACK_CONTENT_TYPE;
}
