// Fuzzes the decoders with a million inputs: mutated encodings of random messages, random
// msgpack built from WRP keys and arbitrary values, and raw random bytes; JSON and header forms
// get mutated inputs too. Every decode must return a message or throw WrpError, and a decoded
// message must re-encode to something that decodes to the same message.
//   npx tsx packages/wrp/fuzz/fuzz-decode.ts [cases] [seed]
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  WIRE_KEYS,
  WrpError,
  decodeHttpHeaders,
  decodeJson,
  decodeMsgpack,
  encodeHttpHeaders,
  encodeJson,
  encodeMsgpack,
  type Message,
} from '../src/index.js';
import { anyMessage } from '../test/arbitraries.js';

const CASES = Number(process.argv[2] ?? 1_000_000);
let seed = Number(process.argv[3] ?? Date.now() % 2 ** 31) >>> 0 || 1;
const initialSeed = seed;

function rand(): number {
  // xorshift32
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed;
}
const below = (n: number): number => rand() % n;

const KEYS = [...Object.values(WIRE_KEYS), 'spans', 'include_spans', 'msg_id', 'x'];
const INTERESTING = [
  0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
  0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde,
  0xdf, 0xe0, 0xff, 0xed, 0xf4,
];

function str(out: number[], s: string): void {
  const b = Buffer.from(s);
  if (b.length < 32) out.push(0xa0 | b.length);
  else out.push(0xd9, b.length);
  out.push(...b);
}

function value(out: number[], depth: number): void {
  switch (below(depth > 3 ? 6 : 9)) {
    case 0:
      out.push(below(256));
      break;
    case 1:
      str(out, Buffer.from(Array.from({ length: below(12) }, () => below(256))).toString('latin1'));
      break;
    case 2:
      str(out, ['mac:112233445566', 'event:x', '', 'é', '\u0000'][below(5)] as string);
      break;
    case 3: {
      const n = below(5);
      out.push(INTERESTING[below(INTERESTING.length)] as number);
      for (let i = 0; i < n; i++) out.push(below(256));
      break;
    }
    case 4:
      out.push(0xc4, 3, 1, 2, 3);
      break;
    case 5:
      out.push(0xc0);
      break;
    case 6: {
      const n = below(4);
      out.push(0x90 | n);
      for (let i = 0; i < n; i++) value(out, depth + 1);
      break;
    }
    case 7: {
      const n = below(4);
      out.push(0x80 | n);
      for (let i = 0; i < n; i++) {
        str(out, KEYS[below(KEYS.length)] as string);
        value(out, depth + 1);
      }
      break;
    }
    default: {
      const n = below(3) + 17;
      out.push(0xdc, 0, n);
      for (let i = 0; i < n; i++) value(out, depth + 1);
    }
  }
}

function structured(): Uint8Array {
  const out: number[] = [];
  const n = below(8);
  out.push(0x80 | (n + 1));
  str(out, 'msg_type');
  out.push(below(2) ? below(12) : (INTERESTING[below(INTERESTING.length)] as number));
  for (let i = 0; i < n; i++) {
    str(out, KEYS[below(KEYS.length)] as string);
    value(out, 2);
  }
  return Uint8Array.from(out);
}

function mutate(src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const edits = 1 + below(4);
  for (let e = 0; e < edits; e++) {
    const at = b.length === 0 ? 0 : below(b.length);
    switch (below(5)) {
      case 0:
        b[at] = below(256);
        break;
      case 1:
        b[at] = INTERESTING[below(INTERESTING.length)] as number;
        break;
      case 2:
        b.length = at;
        break;
      case 3:
        b.splice(at, 0, below(256));
        break;
      default:
        b.splice(at, 1 + below(8));
    }
  }
  return Uint8Array.from(b);
}

const pool: Message[] = fc.sample(anyMessage, { numRuns: 500, seed: initialSeed | 0 });
const encoded = pool.map((m) => encodeMsgpack(m).slice());
const jsonPool = pool.map((m) => Buffer.from(encodeJson(m)));
const headerPool = pool.flatMap((m, i) => {
  try {
    return [encodeHttpHeaders({ ...m, msgType: 3 + (i % 9) })];
  } catch {
    return []; // holds a control character: not expressible as headers
  }
});

const counts = { decoded: 0, wrpError: 0 };
const byCode = new Map<string, number>();

function check(label: string, input: Uint8Array, fn: () => Message): void {
  let m: Message;
  try {
    m = fn();
  } catch (err) {
    if (err instanceof WrpError) {
      counts.wrpError++;
      byCode.set(err.code, (byCode.get(err.code) ?? 0) + 1);
      return;
    }
    console.error(`${label}: non-WrpError for input ${Buffer.from(input).toString('hex')}`);
    throw err;
  }
  counts.decoded++;
  const again = decodeMsgpack(encodeMsgpack(m));
  const expected = { ...m, qos: m.qos ?? 0 };
  const norm = (x: Message): unknown => ({ ...x, payload: x.payload && Array.from(x.payload) });
  if (!isDeepStrictEqual(norm(again), norm(expected))) {
    console.error(`${label}: unstable round trip for ${Buffer.from(input).toString('hex')}`);
    process.exit(1);
  }
}

const started = performance.now();
for (let i = 0; i < CASES; i++) {
  const strategy = i % 10;
  let input: Uint8Array;
  if (strategy < 5) {
    input = mutate(encoded[below(encoded.length)] as Uint8Array);
    check('mutated msgpack', input, () => decodeMsgpack(input));
  } else if (strategy < 8) {
    input = structured();
    const limits = below(4) === 0 ? { maxEntries: 4, maxDepth: 3, maxStringLength: 8 } : undefined;
    check('structured msgpack', input, () => decodeMsgpack(input, limits));
  } else if (strategy === 8) {
    input = Uint8Array.from({ length: below(64) }, () => below(256));
    if (input.length > 0 && below(2)) input[0] = 0x80 | below(16);
    check('random bytes', input, () => decodeMsgpack(input));
  } else if (below(2)) {
    input = mutate(jsonPool[below(jsonPool.length)] as Uint8Array);
    check('mutated JSON', input, () => decodeJson(input));
  } else {
    const h = { ...(headerPool[below(headerPool.length)] as Record<string, string | string[]>) };
    const names = Object.keys(h);
    const name = names[below(names.length)] as string;
    const bytes = mutate(Buffer.from(String(h[name]), 'latin1'));
    h[name] = Buffer.from(bytes).toString('latin1');
    input = bytes;
    check('mutated headers', input, () => decodeHttpHeaders(h, new Uint8Array(below(3))));
  }
  if ((i + 1) % 200_000 === 0) {
    console.log(`${i + 1} cases, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}
console.log(
  `done: ${CASES} cases (seed ${initialSeed}) in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
    `decoded ${counts.decoded}, WrpError ${counts.wrpError} (${[...byCode].map(([c, n]) => `${c} ${n}`).join(', ')})`,
);
