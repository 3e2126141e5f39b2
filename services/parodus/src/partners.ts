/** Parses `--partner-id` (a comma list) into trimmed, non-empty ids. */
export function parsePartnerIds(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Whether a downstream message passes the partner check: with no configured ids, or no
 * `partner_ids` in the message, it passes; otherwise one id must match (case-insensitive).
 * Never throws, whatever the message carries.
 */
export function partnerAllowed(
  configured: readonly string[],
  partnerIds: readonly string[] | undefined,
): boolean {
  if (configured.length === 0) return true;
  if (partnerIds === undefined || partnerIds.length === 0) return true;
  const want = new Set(configured.map((p) => p.toLowerCase()));
  return partnerIds.some((p) => typeof p === 'string' && want.has(p.toLowerCase()));
}

/** The event's partner ids plus the configured ones not already there (case-insensitive). */
export function withPartnerIds(
  configured: readonly string[],
  partnerIds: readonly string[] | undefined,
): string[] {
  const out = [...(partnerIds ?? [])];
  const seen = new Set(out.map((p) => p.toLowerCase()));
  for (const p of configured) {
    if (!seen.has(p.toLowerCase())) {
      out.push(p);
      seen.add(p.toLowerCase());
    }
  }
  return out;
}
