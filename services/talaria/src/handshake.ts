import type { IncomingMessage } from 'node:http';
import { authErrorResponse, isAuthError } from '@xmidt/auth';
import type { Authenticator, AuthStatusProfile } from '@xmidt/auth';
import { parseDeviceId } from '@xmidt/wrp';
import type { Compliance, ConnectInfo } from './device-connection.js';
import type { Gate } from './gate.js';
import { ksuid } from './ksuid.js';

/** Device connect authentication (`deviceAuth` in the config). */
export interface DeviceAuth {
  /** Bearer JWT verification; undefined = device authentication off (every device connects). */
  authenticator: Authenticator | undefined;
  /** Accept a device that sends no `Authorization` header (one that is sent must be valid). */
  failOpen: boolean;
}

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
  auth: DeviceAuth;
  /** The URL of the instance owning `id` when it is not this one; undefined when it is ours. */
  otherOwner(id: string): string | undefined;
  /** Called with errors that are not routine refusals (a broken authenticator). */
  onError?(err: unknown): void;
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

/** The `@xmidt/auth` status profile of a device or API path version. */
export function authProfile(version: string): AuthStatusProfile {
  return version === 'v3' ? 'talaria-v3' : 'talaria-v2';
}

const textRejection = (status: number, reason: string, body: string): Rejection => ({
  ok: false,
  status,
  reason,
  contentType: 'text/plain; charset=utf-8',
  body,
});

interface Authenticated {
  claims: Record<string, unknown>;
}

/**
 * Runs the device authenticator. No header with `failOpen` (or no authenticator at all) gives
 * empty claims; every other failure is a rejection with the status of the original's table.
 */
async function authenticate(
  req: IncomingMessage,
  version: string,
  deps: HandshakeDeps,
): Promise<Authenticated | Rejection> {
  const { authenticator, failOpen } = deps.auth;
  if (!authenticator) return { claims: {} };
  const authorization = header(req, 'authorization');
  if ((authorization === undefined || authorization === '') && failOpen) return { claims: {} };
  try {
    const principal = await authenticator.authenticate(authorization);
    return { claims: principal.claims };
  } catch (err) {
    if (isAuthError(err)) {
      const r = authErrorResponse(err, authProfile(version));
      return { ok: false, status: r.status, reason: err.code, headers: r.headers, body: r.body };
    }
    deps.onError?.(err);
    return textRejection(500, 'auth_error', 'authentication failed');
  }
}

function str(v: unknown, def: string): string {
  return typeof v === 'string' ? v : def;
}

/**
 * Runs the pre-upgrade checks in order: gate (503), device name (400), ring owner (307),
 * authentication (400/401/403 by the original's table), `device-id` claim (500 if unparsable,
 * 401 if it names another device), gate filters (503).
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

  const auth = await authenticate(req, version, deps);
  if ('ok' in auth) return auth;
  const claims = auth.claims;

  // A token naming a device may only connect that device.
  const claimId = claims['device-id'];
  if (claimId !== undefined) {
    let tokenId: string;
    try {
      if (typeof claimId !== 'string') throw new TypeError('device-id is not a string');
      tokenId = parseDeviceId(claimId);
    } catch {
      return jsonError(500, 'failed to extract device ID: invalid device name', 'invalid_claim_id');
    }
    if (tokenId !== id) {
      return textRejection(
        401,
        'device_id_mismatch',
        `the token is for device ${tokenId}, not ${id}`,
      );
    }
  }

  const partnerClaim = claims['partner-id'];
  const partnerIds = [
    typeof partnerClaim === 'string' && partnerClaim !== '' ? partnerClaim : 'unknown',
  ];
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
