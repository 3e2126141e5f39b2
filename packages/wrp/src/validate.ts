import { WrpError } from './errors.js';
import { parseLocator } from './locator.js';
import type { Message } from './message.js';
import { isWellFormed } from './utf8.js';

const UNWANTED = 0;
const OPTIONAL = 1;
const REQUIRED = 2;
type Modality = 0 | 1 | 2;

// Field order is the order of the checks (the first failure wins), as wrp-go v5 runs them.
interface Rules {
  source: Modality;
  dest: Modality;
  transactionUuid: Modality;
  contentType: Modality;
  accept: Modality;
  rdr: Modality;
  status: Modality;
  headers: Modality;
  metadata: Modality;
  path: Modality;
  payload: Modality;
  serviceName: Modality;
  url: Modality;
  partnerIds: Modality;
  sessionId: Modality;
  qos: Modality;
}

const NONE: Rules = {
  source: UNWANTED,
  dest: UNWANTED,
  transactionUuid: UNWANTED,
  contentType: UNWANTED,
  accept: UNWANTED,
  rdr: UNWANTED,
  status: UNWANTED,
  headers: UNWANTED,
  metadata: UNWANTED,
  path: UNWANTED,
  payload: UNWANTED,
  serviceName: UNWANTED,
  url: UNWANTED,
  partnerIds: UNWANTED,
  sessionId: UNWANTED,
  qos: UNWANTED,
};

const EVENT: Rules = {
  ...NONE,
  source: REQUIRED,
  dest: REQUIRED,
  transactionUuid: OPTIONAL,
  contentType: OPTIONAL,
  rdr: OPTIONAL,
  headers: OPTIONAL,
  metadata: OPTIONAL,
  payload: OPTIONAL,
  partnerIds: OPTIONAL,
  sessionId: OPTIONAL,
  qos: OPTIONAL,
};

const REQUEST: Rules = {
  ...EVENT,
  transactionUuid: REQUIRED,
  accept: OPTIONAL,
  status: OPTIONAL,
};

const CRUD: Rules = { ...REQUEST, path: OPTIONAL };

/** Per-type rules (wrp-go v5 StandardValidator). */
const RULES: ReadonlyMap<number, Rules> = new Map([
  [2, { ...NONE, status: REQUIRED }],
  [3, REQUEST],
  [4, EVENT],
  [5, CRUD],
  [6, CRUD],
  [7, CRUD],
  [8, CRUD],
  [9, { ...NONE, serviceName: REQUIRED, url: REQUIRED }],
  [10, NONE],
  [11, NONE],
]);

// Go field names used in the original's error texts.
const GO_NAMES: Record<keyof Rules, string> = {
  source: 'Source',
  dest: 'Destination',
  transactionUuid: 'TransactionUUID',
  contentType: 'ContentType',
  accept: 'Accept',
  rdr: 'RequestDeliveryResponse',
  status: 'Status',
  headers: 'Headers',
  metadata: 'Metadata',
  path: 'Path',
  payload: 'Payload',
  serviceName: 'ServiceName',
  url: 'URL',
  partnerIds: 'PartnerIDs',
  sessionId: 'SessionID',
  qos: 'QualityOfService',
};

const invalid = (...lines: string[]): WrpError =>
  new WrpError('wrp_invalid', ['message is invalid', ...lines].join('\n'));
const UNSUPPORTED = 'unsupported fields set';
const NOT_UTF8 = 'field contains non-utf-8 characters';

function present(msg: Message, field: keyof Rules): boolean {
  switch (field) {
    case 'status':
    case 'rdr':
      return msg[field] != null;
    case 'headers':
    case 'partnerIds':
    case 'payload':
      return (msg[field]?.length ?? 0) > 0;
    case 'metadata':
      return msg.metadata != null && Object.keys(msg.metadata).length > 0;
    case 'qos':
      return (msg.qos ?? 0) !== 0;
    default:
      return (msg[field] ?? '') !== '';
  }
}

function checkModality(msg: Message, field: keyof Rules, m: Modality): void {
  const has = present(msg, field);
  if (m === REQUIRED && !has) {
    // the original reports a missing metadata map as a missing payload
    const name = field === 'metadata' ? 'Payload' : GO_NAMES[field];
    throw invalid(`${name} is required`);
  }
  if (m === UNWANTED && has) throw invalid(UNSUPPORTED);
}

function checkText(value: string | undefined, field: keyof Rules): void {
  if (value !== undefined && !isWellFormed(value)) {
    throw invalid(NOT_UTF8, `invalid ${GO_NAMES[field]}`);
  }
}

function checkInteger(value: number | undefined, field: keyof Rules): void {
  if (value != null && !Number.isSafeInteger(value)) {
    throw invalid(`invalid ${GO_NAMES[field]}`);
  }
}

function checkLocator(value: string | undefined, field: keyof Rules): void {
  if (!value) return;
  checkText(value, field);
  try {
    parseLocator(value);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Checks a message against the rules of its type, as wrp-go v5's standard validator does:
 * required and unwanted fields, UTF-8 of every string, `source`/`dest` parse as locators,
 * `service_name` without `/`, qos within 0..99. Throws `WrpError('wrp_invalid')` whose message
 * is the original's text (lines joined by `\n`), e.g. `message is invalid\nSource is required`.
 */
export function validateMessage(msg: Message): void {
  const rules = RULES.get(msg.msgType);
  if (rules === undefined) throw new WrpError('wrp_invalid', 'invalid message type');

  checkModality(msg, 'source', rules.source);
  checkLocator(msg.source, 'source');
  checkModality(msg, 'dest', rules.dest);
  checkLocator(msg.dest, 'dest');
  for (const field of ['transactionUuid', 'contentType', 'accept'] as const) {
    checkModality(msg, field, rules[field]);
    checkText(msg[field], field);
  }
  checkModality(msg, 'rdr', rules.rdr);
  checkInteger(msg.rdr, 'rdr');
  checkModality(msg, 'status', rules.status);
  checkInteger(msg.status, 'status');
  checkModality(msg, 'headers', rules.headers);
  for (const h of msg.headers ?? []) checkText(h, 'headers');
  checkModality(msg, 'metadata', rules.metadata);
  if (msg.metadata != null) {
    for (const [k, v] of Object.entries(msg.metadata)) {
      if (!isWellFormed(k) || !isWellFormed(v)) throw invalid(NOT_UTF8, 'invalid Metadata');
    }
  }
  checkModality(msg, 'path', rules.path);
  checkText(msg.path, 'path');
  checkModality(msg, 'payload', rules.payload);
  checkModality(msg, 'serviceName', rules.serviceName);
  checkText(msg.serviceName, 'serviceName');
  if (msg.serviceName?.includes('/')) throw invalid("service_name cannot contain '/'");
  checkModality(msg, 'url', rules.url);
  checkText(msg.url, 'url');
  checkModality(msg, 'partnerIds', rules.partnerIds);
  for (const p of msg.partnerIds ?? []) checkText(p, 'partnerIds');
  checkModality(msg, 'sessionId', rules.sessionId);
  checkText(msg.sessionId, 'sessionId');
  if (rules.qos === UNWANTED) {
    checkModality(msg, 'qos', UNWANTED);
  } else {
    const qos = msg.qos ?? 0;
    if (!Number.isInteger(qos) || qos < 0 || qos > 99) throw invalid('invalid QualityOfService');
  }
}
