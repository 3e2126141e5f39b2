/** WRP message types (wire value of `msg_type`). */
export const MessageType = {
  Authorization: 2,
  SimpleRequestResponse: 3,
  SimpleEvent: 4,
  Create: 5,
  Retrieve: 6,
  Update: 7,
  Delete: 8,
  ServiceRegistration: 9,
  ServiceAlive: 10,
  Unknown: 11,
} as const;

export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

const FRIENDLY: readonly string[] = [
  '',
  '',
  '', // Authorization has no friendly name in the original (its name table starts at 3)
  'SimpleRequestResponse',
  'SimpleEvent',
  'Create',
  'Retrieve',
  'Update',
  'Delete',
  'ServiceRegistration',
  'ServiceAlive',
  'Unknown',
];

const FROM_STRING = new Map<string, number>();
for (let t = 3; t <= 11; t++) {
  const name = FRIENDLY[t] ?? '';
  FROM_STRING.set(String(t), t);
  FROM_STRING.set(name, t);
  FROM_STRING.set(`${name}MessageType`, t);
}
FROM_STRING.set('event', MessageType.SimpleEvent);

/** True for the types a message may carry: 2 (Authorization) through 11 (Unknown). */
export function isValidMessageType(type: number): boolean {
  return Number.isInteger(type) && type > 1 && type < 12;
}

/**
 * Parses the textual message type used by the HTTP header form: the decimal value, the full
 * name (`SimpleEventMessageType`), the friendly name (`SimpleEvent`), or `event`. Case-sensitive.
 * As in the original, Authorization (2) has no textual form. Returns `undefined` when unknown.
 */
export function messageTypeFromString(text: string): number | undefined {
  return FROM_STRING.get(text);
}

/** The friendly name written in the HTTP header form; `''` for Authorization and unknown values. */
export function messageTypeName(type: number): string {
  return FRIENDLY[type] ?? '';
}

/** Types that take part in transactions (`transaction_uuid` required): 3, 5, 6, 7, 8. */
export function requiresTransaction(type: number): boolean {
  return type === 3 || (type >= 5 && type <= 8);
}

/** Types that may be acknowledged under QoS (wrp-go v5): 3 through 8. */
export function supportsQosAck(type: number): boolean {
  return type >= 3 && type <= 8;
}

/** Types that are routed beyond one hop: 3 through 8. */
export function isRoutable(type: number): boolean {
  return type >= 3 && type <= 8;
}
