/**
 * The Authorization header for API calls made by the `xmidt` command: `--auth user:pass`,
 * else `XMIDT_API_AUTH=user:pass`, else none.
 */
export function apiAuthorization(flag: string | undefined): string | undefined {
  const value = flag ?? process.env['XMIDT_API_AUTH'];
  if (value === undefined || value === '') return undefined;
  if (value.startsWith('Bearer ') || value.startsWith('Basic ')) return value;
  return `Basic ${Buffer.from(value).toString('base64')}`;
}
