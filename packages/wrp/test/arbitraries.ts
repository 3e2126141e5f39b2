import fc from 'fast-check';
import type { Message } from '../src/index.js';

/** Strings of any Unicode text (mixing ASCII and the rest), well-formed. */
export const text = (minLength = 0): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ minLength, maxLength: 40 }),
    fc.string({ unit: 'binary', minLength, maxLength: 40 }),
    fc.string({ minLength: Math.max(minLength, 30), maxLength: 300 }),
  );

const int = fc.oneof(
  fc.integer({ min: -200, max: 200 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 31, -(2 ** 31) - 1),
);

const dict = (key: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.dictionary(key, value, { noNullPrototype: true, maxKeys: 8 });

function messageOf(
  str: fc.Arbitrary<string>,
  item: fc.Arbitrary<string>,
  mdKey: fc.Arbitrary<string>,
  mdValue: fc.Arbitrary<string>,
  msgType: fc.Arbitrary<number>,
): fc.Arbitrary<Message> {
  return fc.record(
    {
      msgType,
      source: str,
      dest: str,
      transactionUuid: str,
      contentType: str,
      accept: str,
      status: int,
      rdr: int,
      headers: fc.array(item, { maxLength: 5 }),
      metadata: dict(mdKey, mdValue),
      path: str,
      payload: fc.uint8Array({ maxLength: 600 }),
      serviceName: str,
      url: str,
      partnerIds: fc.array(item, { maxLength: 5 }),
      sessionId: str,
      qos: int,
    },
    { requiredKeys: ['msgType'] },
  );
}

/** Any message the model can hold (non-empty strings, as the codecs never emit empty ones). */
export const anyMessage = messageOf(text(1), text(), text(), text(), int);

// The HTTP header form splits list values on `,`, metadata on `=`/`:`, and HTTP trims values.
const headerSafe = (extraForbidden: string): fc.Arbitrary<string> =>
  fc
    .string({
      unit: fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom('é', '😀', 'ü')),
      minLength: 1,
      maxLength: 30,
    })
    .map((s) => s.replace(new RegExp(`[\\x00-\\x1f\\x7f${extraForbidden}]`, 'g'), '').trim())
    .filter((s) => s.length > 0);

/** Messages whose every field survives the header form. */
export const headerMessage = messageOf(
  headerSafe(''),
  headerSafe(','),
  headerSafe(',=:'),
  headerSafe(',=').filter((s) => s.length > 0),
  fc.integer({ min: 3, max: 11 }),
).map((m) => {
  const out: Message = { ...m };
  delete out.qos; // no dialect carries qos
  return out;
});
