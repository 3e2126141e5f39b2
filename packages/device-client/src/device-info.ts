import { DeviceClientError } from './errors.js';

/** What a device says about itself: the Parodus command-line values that reach the cloud. */
export interface DeviceInfo {
  /** `--hw-mac`, colons allowed; 12 characters once the colons are removed. */
  hwMac: string;
  hwModel?: string;
  hwSerialNumber?: string;
  hwManufacturer?: string;
  hwLastRebootReason?: string;
  fwName?: string;
  /** Unix seconds; 0 when unknown. */
  bootTime?: number;
  /** `--boot-time-retry-wait`, seconds. */
  bootTimeRetryWait?: number;
  /** `--webpa-interface-used`. */
  interfaceUsed?: string;
  /** The protocol string, `PARODUS-2.0-<version>`. */
  webpaProtocol?: string;
  /** `--partner-id` (comma list); sent to the token server only. */
  partnerId?: string;
}

export const DEFAULT_WEBPA_PROTOCOL = 'PARODUS-2.0-xmidt-ts-0.1.0';
export const DEFAULT_DEVICE_PROTOCOLS = 'wrp-0.11,getset-0.1';
/** The reconnect reason sent on the first connection of a process. */
export const FIRST_RECONNECT_REASON = 'webpa_process_starts';

/** `--hw-mac` without colons; throws unless exactly 12 characters remain (case kept). */
export function macDigits(hwMac: string): string {
  const digits = hwMac.replaceAll(':', '');
  if (digits.length !== 12) {
    throw new DeviceClientError(
      'device_client_invalid_option',
      `hw-mac must have 12 characters without colons, got ${JSON.stringify(hwMac)}`,
    );
  }
  return digits;
}

/** The device name Parodus sends: `mac:` + the MAC without colons. */
export function deviceName(info: DeviceInfo): string {
  return `mac:${macDigits(info.hwMac)}`;
}

const orUnknown = (v: string | undefined): string => (v === undefined || v === '' ? 'unknown' : v);

/** `<webpa-protocol> (<fw-name>; <hw-model>/<hw-manufacturer>;)`, empty fields as `unknown`. */
export function userAgent(info: DeviceInfo): string {
  return `${info.webpaProtocol ?? DEFAULT_WEBPA_PROTOCOL} (${orUnknown(info.fwName)}; ${orUnknown(
    info.hwModel,
  )}/${orUnknown(info.hwManufacturer)};)`;
}

/**
 * The `X-WebPA-Convey` value: compact JSON in Parodus' key order, string keys only when
 * non-empty, `boot-time` always (a number), `webpa-last-reconnect-reason` always, and
 * `boot-time-retry-wait` only when above 0; standard base64 with padding.
 */
export function conveyHeader(info: DeviceInfo, reconnectReason: string): string {
  const obj: Record<string, string | number> = {};
  const put = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') obj[key] = value;
  };
  put('hw-model', info.hwModel);
  put('hw-serial-number', info.hwSerialNumber);
  put('hw-manufacturer', info.hwManufacturer);
  put('fw-name', info.fwName);
  obj['boot-time'] = info.bootTime ?? 0;
  put('webpa-protocol', info.webpaProtocol ?? DEFAULT_WEBPA_PROTOCOL);
  put('webpa-interface-used', info.interfaceUsed);
  put('hw-last-reboot-reason', info.hwLastRebootReason);
  obj['webpa-last-reconnect-reason'] = reconnectReason;
  if ((info.bootTimeRetryWait ?? 0) > 0) obj['boot-time-retry-wait'] = info.bootTimeRetryWait ?? 0;
  return Buffer.from(JSON.stringify(obj), 'utf8').toString('base64');
}

/**
 * The websocket upgrade headers Parodus adds, in its order: Authorization (only with a token),
 * X-WebPA-Device-Name, X-WebPA-Device-Protocols, User-Agent, X-WebPA-Convey.
 */
export function connectHeaders(
  info: DeviceInfo,
  reconnectReason: string,
  token: string | undefined,
  deviceProtocols: string = DEFAULT_DEVICE_PROTOCOLS,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (token !== undefined && token !== '') headers['Authorization'] = `Bearer ${token}`;
  headers['X-WebPA-Device-Name'] = deviceName(info);
  headers['X-WebPA-Device-Protocols'] = deviceProtocols;
  headers['User-Agent'] = userAgent(info);
  headers['X-WebPA-Convey'] = conveyHeader(info, reconnectReason);
  return headers;
}
