import {
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
  type IncomingHttpHeaders,
  type Server as HttpServer,
} from 'node:http';
import type { Socket } from 'node:net';

/** Longest request head kept on the fast path (node's default --max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Most header lines a fast request may have; more go to node's parser. */
const MAX_HEADER_LINES = 64;
/** Bytes taken in while requests are answered before the connection stops reading. */
const MAX_AHEAD_BYTES = 2 * MAX_HEAD_BYTES;
/** Requests of one connection dispatched and not yet answered (pipelining). */
const MAX_PIPELINED = 32;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// printable ASCII, tab, CR and LF: anything else (obs-text, NUL, DEL) goes to node's parser
const NOT_PLAIN = /[^\t\r\n\x20-\x7e]/;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** A request the fast path parsed: what the issue handler reads of node's IncomingMessage. */
export interface FastRequest {
  readonly method: 'GET';
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: Socket;
}

/**
 * How the fast path answers: what the issue handler uses of node's ServerResponse (which
 * satisfies it too).
 */
export interface FastResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

export interface FastHttpOptions {
  /** Answers a request and returns true, or returns false (untouched) to leave it to node. */
  dispatch(req: FastRequest, res: FastResponse): boolean;
  /** Node's HTTP server: takes every connection the fast path does not keep, for good. */
  fallback: HttpServer;
  /** Idle time between requests after which a connection is closed (node's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** Time a request head may take to arrive (node's headersTimeout). */
  headersTimeoutMs: number;
}

/** `Date` of the current second. */
class DateHeader {
  #second = -1;
  #text = '';
  now(): string {
    const ms = Date.now();
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#text = new Date(ms).toUTCString();
    }
    return this.#text;
  }
}

/**
 * The parsed head of a plain request, or undefined for anything node's parser should judge:
 * only `GET <target> HTTP/1.1` with printable ASCII, CRLF line ends, token header names, no
 * repeated header, a Host, no body (Content-Length absent or 0, no Transfer-Encoding), no
 * Expect or Upgrade, and Connection absent or keep-alive.
 */
function parseHead(
  head: string,
): { url: string; headers: IncomingHttpHeaders; rawHeaders: string[] } | undefined {
  if (NOT_PLAIN.test(head)) return undefined;
  const lines = head.split('\r\n');
  if (lines.length - 1 > MAX_HEADER_LINES) return undefined;
  const requestLine = lines[0] ?? '';
  if (!requestLine.startsWith('GET /') || !requestLine.endsWith(' HTTP/1.1')) return undefined;
  const url = requestLine.slice(4, -9);
  if (url.includes(' ') || url.includes('\r') || url.includes('\n')) return undefined;
  const headers = Object.create(null) as Record<string, string>;
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.includes('\r') || line.includes('\n')) return undefined;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (headers[lower] !== undefined) return undefined;
    switch (lower) {
      case 'content-length':
        if (value !== '0') return undefined;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return undefined;
        break;
    }
    headers[lower] = value;
    rawHeaders.push(name, value);
  }
  if (headers['host'] === undefined) return undefined;
  return { url, headers, rawHeaders };
}

/**
 * Whether `buf` from `from` on has a CR not followed by LF, or an LF not preceded by CR (a CR
 * last may be).
 */
function hasBareLineEnd(buf: Buffer, from: number): boolean {
  for (let i = buf.indexOf(0x0a, from); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (i === 0 || buf[i - 1] !== 0x0d) return true;
  }
  const last = buf.length - 1;
  for (let i = buf.indexOf(0x0d, from); i >= 0 && i < last; i = buf.indexOf(0x0d, i + 1)) {
    if (buf[i + 1] !== 0x0a) return true;
  }
  return false;
}

/**
 * Received bytes not yet parsed. A chunk is kept as it is while it is alone; bytes that arrive
 * in pieces are copied into a buffer that doubles when full, so a head sent a byte at a time
 * costs linear, not quadratic, copying.
 */
class ReceiveBuffer {
  #data: Buffer = Buffer.alloc(0);
  #len = 0;
  /** #data is a buffer of our own with room to grow (not a chunk handed to us). */
  #owned = false;

  get length(): number {
    return this.#len;
  }

  /** The bytes held (a view, valid until the next change). */
  view(): Buffer {
    return this.#data.subarray(0, this.#len);
  }

  append(chunk: Buffer): void {
    if (this.#len === 0) {
      this.#data = chunk;
      this.#len = chunk.length;
      this.#owned = false;
      return;
    }
    const need = this.#len + chunk.length;
    if (!this.#owned || this.#data.length < need) {
      const next = Buffer.allocUnsafe(Math.max(need, 2 * this.#len, 1024));
      this.#data.copy(next, 0, 0, this.#len);
      this.#data = next;
      this.#owned = true;
    }
    chunk.copy(this.#data, this.#len);
    this.#len = need;
  }

  /** Drops the first `n` bytes. */
  consume(n: number): void {
    if (n >= this.#len) {
      this.#data = Buffer.alloc(0);
      this.#len = 0;
      this.#owned = false;
      return;
    }
    this.#data = this.#data.subarray(n, this.#len);
    this.#len -= n;
    this.#owned = false;
  }

  /** Takes every byte held, as one buffer of its own. */
  take(): Buffer {
    const out = Buffer.from(this.view());
    this.consume(this.#len);
    return out;
  }
}

/** The answer to one request: written when it and every answer before it are done. */
class FastAnswer implements FastResponse {
  readonly #conn: FastConnection;
  headersSent = false;
  /** Status line and the handler's headers. */
  head = '';
  body: string | undefined;

  constructor(conn: FastConnection) {
    this.#conn = conn;
  }

  get destroyed(): boolean {
    return this.#conn.socket.destroyed;
  }

  writeHead(status: number, headers: Record<string, string>): this {
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const name of Object.keys(headers)) {
      const value = headers[name] ?? '';
      validateHeaderName(name);
      validateHeaderValue(name, value);
      head += `${name}: ${value}\r\n`;
    }
    this.head = head;
    this.headersSent = true;
    return this;
  }

  end(body: string): this {
    if (this.body !== undefined) return this;
    this.body = body;
    this.#conn.flush();
    return this;
  }
}

/**
 * One connection on the fast path. Requests sent ahead (pipelining) are dispatched as they are
 * parsed, up to MAX_PIPELINED at once, and answered in order, as node's server does.
 */
class FastConnection {
  readonly socket: Socket;
  readonly #front: FastHttp;
  /** Bytes received and not yet parsed. */
  readonly #buf = new ReceiveBuffer();
  /** Bytes at the front of #buf already searched for the end of a head, without finding it. */
  #scanned = 0;
  /** When the head in #buf began to arrive (ms), 0 when #buf is empty. */
  #headSince = 0;
  /** Answers not yet written, in request order. */
  #answers: FastAnswer[] = [];
  /** Inside dispatch: an answer given there lets #next's loop go on (no recursion). */
  #dispatching = false;
  /** A request node must judge is next: the connection goes to node once #answers is empty. */
  #leaving = false;
  /** Answers wait in the socket's buffer for the client to read them ('drain' awaited). */
  #awaitingDrain = false;

  constructor(socket: Socket, front: FastHttp) {
    this.socket = socket;
    this.#front = front;
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('timeout', this.#onTimeout);
    socket.setTimeout(front.keepAliveTimeoutMs);
  }

  /** Requests being answered. */
  get busy(): boolean {
    return this.#answers.length > 0;
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#buf.append(chunk);
    this.#next();
    // a client far ahead of its answers, or not reading them, waits for them
    if (this.#buf.length > MAX_AHEAD_BYTES) this.socket.pause();
  };

  readonly #onError = (): void => {
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#front.forget(this);
  };

  readonly #onDrain = (): void => {
    this.#awaitingDrain = false;
    if (this.socket.isPaused()) this.socket.resume();
    if (!this.#dispatching) this.#next();
  };

  readonly #onTimeout = (): void => {
    if (!this.busy) this.socket.destroy();
  };

  /** Dispatches the requests in the buffer while their heads are complete. */
  #next(): void {
    while (
      !this.#leaving &&
      this.#answers.length < MAX_PIPELINED &&
      !this.socket.destroyed &&
      !this.socket.writableEnded &&
      !this.socket.writableNeedDrain
    ) {
      if (this.#buf.length === 0) return;
      const buf = this.#buf.view();
      const end = buf.indexOf(HEAD_END, Math.max(0, this.#scanned - 3));
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES || hasBareLineEnd(buf, Math.max(0, this.#scanned - 1)))
          return this.#leave();
        this.#scanned = buf.length;
        const now = Date.now();
        if (this.#headSince === 0) this.#headSince = now;
        else if (now - this.#headSince > this.#front.headersTimeoutMs) this.socket.destroy();
        return;
      }
      if (end > MAX_HEAD_BYTES) return this.#leave();
      const parsed = parseHead(buf.toString('latin1', 0, end));
      if (!parsed) return this.#leave();
      const answer = new FastAnswer(this);
      this.#answers.push(answer);
      let taken = false;
      this.#dispatching = true;
      try {
        taken = this.#front.dispatch({ method: 'GET', socket: this.socket, ...parsed }, answer);
      } catch {
        this.socket.destroy();
        return;
      } finally {
        this.#dispatching = false;
      }
      if (!taken) {
        // untouched: node's server parses it again, with what follows
        this.#answers.pop();
        return this.#leave();
      }
      this.#buf.consume(end + 4);
      this.#scanned = 0;
      this.#headSince = this.#buf.length > 0 ? Date.now() : 0;
    }
  }

  /** Writes the answers that are done, in order, in one write. */
  flush(): void {
    const answers = this.#answers;
    let out = '';
    let n = 0;
    const closing = this.#front.closing;
    const connection = closing
      ? 'Connection: close\r\n'
      : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.#front.keepAliveTimeoutMs / 1000)}\r\n`;
    for (const a of answers) {
      if (a.body === undefined) break;
      out += `${a.head}Date: ${this.#front.date()}\r\n${connection}\r\n${a.body}`;
      n++;
    }
    if (n === 0) return;
    answers.splice(0, n);
    // a client that does not read its answers stops being read (#next checks the same)
    if (!this.socket.destroyed && !this.socket.write(out) && !this.#awaitingDrain) {
      this.#awaitingDrain = true;
      this.socket.once('drain', this.#onDrain);
    }
    if (answers.length === 0) this.#front.answered();
    if (closing) {
      if (answers.length === 0) this.socket.end();
      return;
    }
    if (this.socket.isPaused() && !this.socket.writableNeedDrain) this.socket.resume();
    if (this.#dispatching) return;
    if (this.#leaving && answers.length === 0) this.#handOver();
    else this.#next();
  }

  /** Ends the connection now if it is idle, else once its answers are written. */
  close(): void {
    if (!this.busy) this.socket.end();
  }

  /** The next request is node's to judge: hand the connection over once the answers are out. */
  #leave(): void {
    this.#leaving = true;
    if (!this.busy) this.#handOver();
  }

  /** Leaves the connection, with the bytes not yet parsed, to node's HTTP server. */
  #handOver(): void {
    const s = this.socket;
    s.off('data', this.#onData);
    s.off('error', this.#onError);
    s.off('close', this.#onClose);
    s.off('timeout', this.#onTimeout);
    s.off('drain', this.#onDrain);
    s.setTimeout(0);
    this.#front.forget(this);
    if (this.#buf.length > 0) s.unshift(this.#buf.take());
    if (s.isPaused()) s.resume();
    this.#front.fallback.emit('connection', s);
  }
}

/**
 * A minimal HTTP/1.1 front for the plain requests Themis answers most: it parses a request head
 * only when it is unmistakably plain (see parseHead), hands it to `dispatch`, and writes the
 * answer in one write. Any other request (another method, HTTP/1.0, a body, a repeated header,
 * bytes outside printable ASCII, a head over 16 KiB) and every request after it on the same
 * connection go to node's HTTP server, with the bytes not yet parsed, so node's parser and its
 * answers (400, 431, ...) judge them exactly as before.
 *
 * Why: on two cores node's HTTP machinery (IncomingMessage, ServerResponse, header objects,
 * streams) costs the event loop as much as the rest of issuing a token.
 */
export class FastHttp {
  readonly fallback: HttpServer;
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly dispatch: FastHttpOptions['dispatch'];
  readonly #connections = new Set<FastConnection>();
  readonly #date = new DateHeader();
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(opts: FastHttpOptions) {
    this.fallback = opts.fallback;
    this.keepAliveTimeoutMs = opts.keepAliveTimeoutMs;
    this.headersTimeoutMs = opts.headersTimeoutMs;
    this.dispatch = opts.dispatch;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Serves a new connection (TCP, or TLS once the handshake is done). */
  accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.#connections.add(new FastConnection(socket, this));
  }

  date(): string {
    return this.#date.now();
  }

  forget(conn: FastConnection): void {
    this.#connections.delete(conn);
    this.answered();
  }

  answered(): void {
    if (this.#drained && ![...this.#connections].some((c) => c.busy)) this.#drained();
  }

  /**
   * Stops: idle connections end now, busy ones once their answer is written; resolves when no
   * request is being answered on the fast path.
   */
  close(): Promise<void> {
    this.#closing = true;
    for (const c of this.#connections) c.close();
    if (![...this.#connections].some((c) => c.busy)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = () => {
        this.#drained = undefined;
        resolve();
      };
    });
  }
}
