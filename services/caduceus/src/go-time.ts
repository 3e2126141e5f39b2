// Time texts of the original's webhook JSON and messages: RFC 3339 in, Go's RFC3339Nano and
// time.Time.String() out. (Durations are @xmidt/runtime's parseDuration/formatDuration.)

/** RFC 3339 with up to millisecond precision and trailing zeros trimmed (Go RFC3339Nano, UTC). */
export function formatRfc3339Nano(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2024-01-02T03:04:05.678Z
  return iso.replace(/\.(\d{3})Z$/, (_m, frac: string) => {
    const t = frac.replace(/0+$/, '');
    return t === '' ? 'Z' : `.${t}Z`;
  });
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 time into epoch milliseconds; undefined when not RFC 3339. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const frac = m[7] ? m[7].slice(0, 4) : '';
  const zone = (m[8] ?? 'Z').toUpperCase();
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}${zone}`);
  return Number.isNaN(t) ? undefined : t;
}

/** Go's `time.Time.String()` for a UTC instant: `2006-01-02 15:04:05.999 +0000 UTC`. */
export function goTimeString(ms: number): string {
  const iso = formatRfc3339Nano(ms); // ...T..:..:..(.fff)Z
  return `${iso.replace('T', ' ').replace(/Z$/, '')} +0000 UTC`;
}
