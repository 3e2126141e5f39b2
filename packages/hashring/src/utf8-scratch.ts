// UTF-8 encoding of a string into a reused buffer, without allocating per call.

/**
 * Writes the UTF-8 bytes of `s` into `buf` and returns the byte count, or -1 when `buf` is too
 * small. Lone surrogates become U+FFFD, as TextEncoder and Go's string conversion do.
 */
export function encodeUtf8Into(s: string, buf: Uint8Array): number {
  const n = s.length;
  const cap = buf.length;
  let p = 0;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (p >= cap) return -1;
      buf[p++] = c;
      continue;
    }
    if (c < 0x800) {
      if (p + 2 > cap) return -1;
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        if (p + 4 > cap) return -1;
        buf[p++] = 0xf0 | (c >> 18);
        buf[p++] = 0x80 | ((c >> 12) & 0x3f);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    if (p + 3 > cap) return -1;
    buf[p++] = 0xe0 | (c >> 12);
    buf[p++] = 0x80 | ((c >> 6) & 0x3f);
    buf[p++] = 0x80 | (c & 0x3f);
  }
  return p;
}
