import type { Message } from '@xmidt/wrp';

/** Prints a WRP message as indented JSON; the payload as text when it is valid UTF-8. */
export function printMessage(message: Message): void {
  const { payload, ...rest } = message;
  const out: Record<string, unknown> = { ...rest };
  if (payload !== undefined) {
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      out['payload'] = text.decode(payload);
    } catch {
      out['payloadBase64'] = Buffer.from(payload).toString('base64');
    }
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
