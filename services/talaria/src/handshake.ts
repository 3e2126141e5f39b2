import type { IncomingMessage } from 'node:http';
import { AuthError, authErrorStatus, parseDeviceId } from './deps/index.js';
import type { Compliance, ConnectInfo } from './device-connection.js';
import type { Gate } from './gate.js';
import { ksuid } from './ksuid.js';

/** The device-auth seam: resolves the caller's partner ids and claims, or throws an error with a `code`. */
export type DeviceAuthenticator = (
  req: IncomingMessage,
) => Promise<{ partnerIds: string[]; claims: Record<string, unknown> }>;

export interface Rejection {
  ok: false;
  status: number;
  reason: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}
export type HandshakeResult = { ok: true; info: ConnectInfo } | Rejection;

export interface HandshakeDeps {
  gate: Gate;
  failOpen: boolean;
  authenticator: DeviceAuthenticator | undefined;
  /** The URL of the instance owning `id` when it is not this one; undefined when it is ours. */
  otherOwner(id: string): string | undefined;
}

export const DEVICE_PATH = /^\/api\/(v2|v3)\/device\/?$/;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const jsonError = (status: number, message: string, reason: string): Rejection => ({
  ok: false,
  status,
  reason,
  contentType: 'application/json',
  body: JSON.stringify({ code: status, message }),
});

/** Decodes `X-Webpa-Convey` (standard base64 of a JSON object). Never throws. */
export function parseConvey(value: string | undefined): {
  convey: Record<string, unknown> | undefined;
  compliance: Compliance;
} {
  if (value === undefined || value === '')
    return { convey: undefined, compliance: 'missing-convey' };
  try {
    const text = Buffer.from(value.trim(), 'base64').toString('utf8');
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return { convey: parsed as Record<string, unknown>, compliance: 'full' };
    }
  } catch {
    // fall through
  }
  return { convey: undefined, compliance: 'invalid-convey' };
}

/** Status of an auth failure, by error and API version (the original's table, from @xmidt/auth). */
export function authStatus(err: unknown, version: string): number {
  const profile = version === 'v3' ? 'talaria-v3' : 'talaria-v2';
  const code = (err as { code?: unknown } | undefined)?.code;
  if (err instanceof AuthError || (typeof code === 'string' && code.startsWith('auth_'))) {
    try {
      const status = authErrorStatus((err as AuthError).code, profile);
      if (typeof status === 'number') return status;
    } catch {
      // unknown code: fall through
    }
  }
  return 403;
}

function str(v: unknown, def: string): string {
  return typeof v === 'string' ? v : def;
}

/**
 * Runs the pre-upgrade checks in order: gate (503), device name (400), ring owner (307),
 * authentication (400/401/403), `device-id` claim (500 if unparsable), gate filters (503).
 * The device limit is checked by the caller right before the upgrade, synchronously.
 */
export async function checkHandshake(
  req: IncomingMessage,
  version: string,
  deps: HandshakeDeps,
): Promise<HandshakeResult> {
  if (!deps.gate.open) return { ok: false, status: 503, reason: 'gate_closed' };

  const name = header(req, 'x-webpa-device-name');
  if (name === undefined || name === '') {
    return jsonError(400, 'failed to extract device ID: missing device name header', 'missing_id');
  }
  let id: string;
  try {
    id = parseDeviceId(name);
  } catch {
    return jsonError(400, 'failed to extract device ID: invalid device name', 'invalid_id');
  }

  const owner = deps.otherOwner(id);
  if (owner !== undefined) {
    return {
      ok: false,
      status: 307,
      reason: 'other_instance',
      headers: { location: owner + (req.url ?? '/api/v2/device') },
    };
  }

  let claims: Record<string, unknown> = {};
  let partnerIds: string[] = [];
  const authorization = header(req, 'authorization');
  if (deps.authenticator && (authorization !== undefined || !deps.failOpen)) {
    try {
      const principal = await deps.authenticator(req);
      claims = principal.claims;
      partnerIds = principal.partnerIds;
    } catch (err) {
      return {
        ok: false,
        status: authStatus(err, version),
        reason: 'auth',
        contentType: 'text/plain; charset=utf-8',
        body: err instanceof Error ? err.message : 'unauthorized',
      };
    }
  }

  const claimId = claims['device-id'];
  if (typeof claimId === 'string') {
    try {
      id = parseDeviceId(claimId);
    } catch {
      return jsonError(500, 'failed to extract device ID: invalid device name', 'invalid_claim_id');
    }
  }

  if (partnerIds.length === 0) {
    const p = claims['partner-id'];
    partnerIds = [typeof p === 'string' && p !== '' ? p : 'unknown'];
  }
  const trustClaim = claims.trust;
  const { convey, compliance } = parseConvey(header(req, 'x-webpa-convey'));
  const info: ConnectInfo = {
    id,
    sessionId: ksuid(),
    convey,
    compliance,
    claims,
    partnerIds,
    trust:
      typeof trustClaim === 'number'
        ? Math.trunc(trustClaim)
        : Number.parseInt(str(trustClaim, '0'), 10) || 0,
    accountId: str(claims.accountID, ''),
    intermediateContext: header(req, 'x-intermediate-context') ?? '',
  };

  if (deps.gate.blocks(info)) return { ok: false, status: 503, reason: 'filtered' };
  return { ok: true, info };
}
