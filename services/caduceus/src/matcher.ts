import type { RE2JS } from 're2js';
import type { Message } from '@xmidt/wrp';
import { compilePattern, type StoredWebhook } from './webhook.js';

/** The compiled matching rules of one webhook. */
export interface CompiledMatcher {
  partnerIds: ReadonlySet<string>;
  /** undefined: every event passes (a pattern that matches everything: `.*` or empty). */
  events: RE2JS[] | undefined;
  /** undefined: every device passes (empty list or an entry that is exactly `.*`). */
  deviceIds: RE2JS[] | undefined;
}

export function compileMatcher(s: StoredWebhook): CompiledMatcher {
  const compile = (p: string): RE2JS => {
    const re = compilePattern(p);
    if (!re) throw new Error(`pattern cannot be parsed: ${p}`);
    return re;
  };
  const ids = s.webhook.matcher.deviceId;
  return {
    partnerIds: new Set(s.partnerIds),
    events: s.webhook.events.some((e) => e === '' || e === '.*')
      ? undefined
      : s.webhook.events.map(compile),
    deviceIds: ids.length === 0 || ids.includes('.*') ? undefined : ids.map(compile),
  };
}

/** `dest` without a leading `event:`. */
export function eventString(dest: string | undefined): string {
  const d = dest ?? '';
  return d.startsWith('event:') ? d.slice(6) : d;
}

const EVENT_TYPE = /^event:([^/]+)/;
const SAFE_LABEL = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The metric label `event`: the first segment after `event:`, or `unknown`. Only tame label
 * values are kept (the text comes from devices).
 */
export function eventType(dest: string | undefined): string {
  const m = EVENT_TYPE.exec(dest ?? '');
  const t = m?.[1];
  return t !== undefined && SAFE_LABEL.test(t) ? t : 'unknown';
}

export interface MatchOptions {
  disablePartnerIDs: boolean;
  /** Partner ids given to events that carry none. */
  customPIDs: readonly string[];
}

/**
 * The original's per-webhook decision (after the time window): partner-id overlap, then any
 * `events` regex found in the event string, then any device regex found in source or event
 * string. Regexes are RE2 (linear time) and unanchored.
 */
export function matches(
  m: CompiledMatcher,
  msg: Message,
  event: string,
  opts: MatchOptions,
): boolean {
  if (!opts.disablePartnerIDs) {
    const pids = msg.partnerIds && msg.partnerIds.length > 0 ? msg.partnerIds : opts.customPIDs;
    if (!pids.some((p) => m.partnerIds.has(p))) return false;
  }
  if (m.events && !m.events.some((re) => re.test(event))) return false;
  if (m.deviceIds) {
    const source = msg.source ?? '';
    if (!m.deviceIds.some((re) => re.test(source) || re.test(event))) return false;
  }
  return true;
}
