import { WrpError } from './errors.js';

/** A parsed `scheme:authority[/service[/ignored…]]` locator. */
export interface Locator {
  /** Lowercase scheme: `mac`, `uuid`, `serial`, `self`, `dns` or `event`. */
  scheme: string;
  /** The authority, trimmed; a MAC is normalised to 12 lowercase hex digits; empty for `self`. */
  authority: string;
  /** The service segment (device schemes and `self` only; dns and event leave it empty). */
  service: string;
  /** The rest after the service (or, for dns and event, after the authority), starting with `/`. */
  ignored: string;
  /** Canonical `scheme:authority`, e.g. `mac:112233445566`, `self:`, `dns:example.com`. */
  id: string;
  /** True for schemes that name a device (mac, uuid, serial, self); false for dns and event. */
  isDevice: boolean;
}

export const LocatorScheme = {
  Mac: 'mac',
  Uuid: 'uuid',
  Serial: 'serial',
  Self: 'self',
  Dns: 'dns',
  Event: 'event',
} as const;

const SCHEMES = ['dns', 'event', 'mac', 'self', 'serial', 'uuid'] as const;

const deviceNameError = (detail: string): WrpError =>
  new WrpError('locator_invalid', `invalid device name: ${detail}`);

function schemeOf(s: string): string | undefined {
  for (const scheme of SCHEMES) {
    const n = scheme.length;
    if (s.length > n && s.charCodeAt(n) === 0x3a && s.slice(0, n).toLowerCase() === scheme) {
      return scheme;
    }
  }
  return undefined;
}

const HEX = /^[0-9a-f]{12}$/;

function normalizeMac(mac: string): string {
  if (HEX.test(mac)) return mac;
  let out = '';
  for (let i = 0; i < mac.length; i++) {
    const c = mac.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) out += mac[i];
    else if (c >= 0x41 && c <= 0x46) out += String.fromCharCode(c + 0x20);
    else if (c === 0x2d || c === 0x3a || c === 0x2e || c === 0x2c) continue;
    else throw deviceNameError(`invalid character \`${mac[i]}\` in MAC address`);
  }
  if (out.length !== 12) throw deviceNameError('invalid MAC address length');
  return out;
}

interface DeviceIdParts {
  scheme: string;
  authority: string;
  rest: string;
}

function splitDeviceId(text: string): DeviceIdParts {
  const s = text.trim();
  if (s === '') throw deviceNameError('empty device ID');
  const scheme = schemeOf(s);
  if (scheme === undefined) throw deviceNameError('unknown or missing scheme');
  const after = s.slice(scheme.length + 1);
  if (scheme === 'self') return { scheme, authority: '', rest: after };
  const slash = after.indexOf('/');
  const raw = slash < 0 ? after : after.slice(0, slash);
  const rest = slash < 0 ? '' : after.slice(slash);
  let authority = raw.trim();
  if (authority === '') throw deviceNameError('missing authority in device ID');
  if (scheme === 'mac') authority = normalizeMac(authority);
  return { scheme, authority, rest };
}

/**
 * Canonical device id of a device name or locator: `mac:` ids lowercased with `: - . ,` removed
 * (exactly 12 hex digits), other schemes keep their text; anything after the authority is
 * dropped. This string is the hash-ring key. Throws `WrpError('locator_invalid')` with the
 * original's texts, e.g. `invalid device name: unknown or missing scheme`.
 */
export function parseDeviceId(text: string): string {
  const { scheme, authority } = splitDeviceId(text);
  return `${scheme}:${authority}`;
}

/**
 * Parses a locator as wrp-go v5 does. Errors are `WrpError('locator_invalid')` whose message is
 * `invalid locator` followed by a line with the device-name error, if any.
 */
export function parseLocator(text: string): Locator {
  let parts: DeviceIdParts;
  try {
    parts = splitDeviceId(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new WrpError('locator_invalid', `invalid locator\n${detail}`);
  }
  const { scheme, authority, rest } = parts;
  const id = `${scheme}:${authority}`;
  if (scheme === 'dns' || scheme === 'event') {
    return { scheme, authority, service: '', ignored: rest, id, isDevice: false };
  }
  if (rest !== '' && rest.charCodeAt(0) !== 0x2f) {
    throw new WrpError('locator_invalid', 'invalid locator');
  }
  const tail = rest.slice(1);
  const slash = tail.indexOf('/');
  const service = slash < 0 ? tail : tail.slice(0, slash);
  const ignored = slash < 0 ? '' : tail.slice(slash);
  return { scheme, authority, service, ignored, id, isDevice: true };
}

/** Rebuilds the text of a locator: `scheme:authority[/service]ignored`. */
export function formatLocator(
  l: Pick<Locator, 'scheme' | 'authority' | 'service' | 'ignored'>,
): string {
  return `${l.scheme}:${l.authority}${l.service ? `/${l.service}` : ''}${l.ignored}`;
}
