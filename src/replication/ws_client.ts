/**
 * `WsClient`: a minimal WebSocket client (RFC 6455: handshake, masked binary frames out,
 * binary/ping/close frames in) over `Deno.connect`, optionally upgraded with `Deno.startTls`.
 *
 * Why not the runtime's `WebSocket`: its client socket keeps Nagle's algorithm on and writes a
 * frame's header and a payload over 1,024 bytes separately, so every such frame waits for the
 * peer's delayed ACK (docs/benchmarks.md, "Channel between nodes"). Replication batches grow
 * past 1 KiB exactly when load rises, and one write of a value over ~1 KB is enough. Here the
 * TCP socket has `TCP_NODELAY` (`Deno.connect`'s default) and each frame is one write.
 *
 * @module
 */

import { concatBytes } from "../util/read_limited.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const utf8 = new TextEncoder();

/** Options of {@link WsClient.connect}. */
export interface WsClientOptions {
  /** Extra handshake headers (e.g. `authorization`). @default {} */
  headers?: Record<string, string>;
  /** For `wss://`: certificates to trust besides the system roots. @default none */
  caCerts?: string[];
  /** Largest message accepted from the server, bytes (larger closes the socket). @default 64 MiB */
  maxMessageBytes?: number;
  /**
   * Abandons the connection attempt (connect, TLS, handshake) when aborted, so a peer that
   * never answers does not hold a socket. @default never
   */
  signal?: AbortSignal;
}

/** Callbacks of a {@link WsClient}. */
export interface WsClientEvents {
  /** A binary message arrived. */
  onMessage(data: Uint8Array): void;
  /** The connection ended (by either side, or an error); called once. */
  onClose(reason: string): void;
}

/** One client connection; create with {@link WsClient.connect}. */
export class WsClient {
  readonly #conn: Deno.Conn;
  readonly #events: WsClientEvents;
  readonly #maxMessageBytes: number;
  // Frames waiting to be written, in order; one drain loop writes them, several at a time.
  #outbox: Uint8Array[] = [];
  #draining = false;
  #closed = false;
  /** Header fields of the server's `101` answer to the handshake. */
  readonly handshakeHeaders: Headers;

  private constructor(
    conn: Deno.Conn,
    events: WsClientEvents,
    maxMessageBytes: number,
    handshakeHeaders: Headers,
  ) {
    this.#conn = conn;
    this.#events = events;
    this.#maxMessageBytes = maxMessageBytes;
    this.handshakeHeaders = handshakeHeaders;
  }

  /**
   * Connects to `url` (`ws://` or `wss://`), performs the handshake and starts reading.
   * Rejects when the connection, TLS or the handshake fails.
   */
  static async connect(
    url: string,
    events: WsClientEvents,
    options: WsClientOptions = {},
  ): Promise<WsClient> {
    const u = new URL(url);
    const secure = u.protocol === "wss:";
    const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(u.port || (secure ? 443 : 80));
    const signal = options.signal;
    let conn: Deno.Conn = await Deno.connect({ hostname, port, signal });
    // An exception here would be an uncaught one (an event listener): it killed nodes.
    const abandon = () => {
      try {
        conn.close();
      } catch {
        // already closed
      }
    };
    signal?.addEventListener("abort", abandon, { once: true });
    try {
      if (secure) {
        conn = await Deno.startTls(conn as Deno.TcpConn, { hostname, caCerts: options.caCerts });
      }
      const { rest, headers } = await handshake(conn, u, options.headers ?? {});
      const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
      const client = new WsClient(conn, events, maxMessageBytes, headers);
      void client.#read(rest);
      return client;
    } catch (err) {
      try {
        conn.close();
      } catch {
        // already closed by the abort
      }
      throw signal?.aborted ? new Error("WebSocket connection abandoned") : err;
    } finally {
      signal?.removeEventListener("abort", abandon);
    }
  }

  /** Sends one binary message (one frame, one write); writes are kept in order. */
  send(data: Uint8Array): void {
    if (this.#closed) throw new Error("Cannot send: WebSocket closed");
    this.#write(maskedFrame(0x2, data));
  }

  /**
   * Closes the connection at once (idempotent; `onClose` runs once). No close frame is sent:
   * the peer may be the reason we stop, and waiting on it is what must not happen.
   */
  close(reason = "closed by us"): void {
    this.#end(reason);
  }

  #write(frame: Uint8Array): void {
    this.#outbox.push(frame);
    if (!this.#draining) void this.#drain();
  }

  // Writes the outbox until it is empty: frames queued meanwhile leave together, in one write
  // (a promise chain per frame and a write per frame cost more than the frames themselves).
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#outbox.length > 0 && !this.#closed) {
        const frames = this.#outbox;
        this.#outbox = [];
        await writeAll(this.#conn, frames.length === 1 ? frames[0] : concatBytes(...frames));
      }
    } catch (err) {
      this.#end(`write failed: ${(err as Error).message}`);
    } finally {
      this.#draining = false;
    }
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#events.onClose(reason);
  }

  async #read(initial: Uint8Array): Promise<void> {
    let buf = initial;
    let fragments: Uint8Array[] = [];
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const frame = parseFrame(buf, this.#maxMessageBytes);
        if (frame === undefined) {
          const n = await this.#conn.read(chunk);
          if (n === null) return this.#end("closed by peer");
          buf = concatBytes(buf, chunk.subarray(0, n));
          continue;
        }
        buf = buf.subarray(frame.length);
        if (frame.opcode === 0x8) return this.close("peer sent close");
        if (frame.opcode === 0x9) {
          const pong = maskedFrame(0xa, frame.payload.slice());
          this.#write(pong);
          continue;
        }
        if (frame.opcode === 0xa) continue;
        if (frame.opcode === 0x1) return this.close("peer sent a text frame");
        fragments.push(frame.payload.slice());
        if (!frame.fin) continue;
        const message = fragments.length === 1 ? fragments[0] : concatBytes(...fragments);
        fragments = [];
        if (message.byteLength > this.#maxMessageBytes) return this.close("message too large");
        if (!this.#closed) this.#events.onMessage(message);
      }
    } catch (err) {
      this.#end(`read failed: ${(err as Error).message}`);
    }
  }
}

async function handshake(
  conn: Deno.Conn,
  url: URL,
  headers: Record<string, string>,
): Promise<{ rest: Uint8Array; headers: Headers }> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  await writeAll(conn, utf8.encode(lines.join("\r\n") + "\r\n\r\n"));
  let buf: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  for (;;) {
    const end = indexOfHeadersEnd(buf);
    if (end >= 0) {
      const head = new TextDecoder().decode(buf.subarray(0, end));
      return { rest: buf.slice(end + 4), headers: await checkAccept(head, key) };
    }
    if (buf.byteLength > 16 * 1024) throw new Error("WebSocket handshake: response too long");
    const n = await conn.read(chunk);
    if (n === null) throw new Error("WebSocket handshake: connection closed");
    buf = concatBytes(buf, chunk.subarray(0, n));
  }
}

/** Checks the server's answer to the handshake; resolves with its header fields. */
async function checkAccept(head: string, key: string): Promise<Headers> {
  const [status, ...fields] = head.split("\r\n");
  if (!/^HTTP\/1\.1 101\b/.test(status)) {
    throw new Error(`WebSocket handshake refused: ${status}`);
  }
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(":");
    try {
      if (colon > 0) headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
    } catch {
      throw new Error("WebSocket handshake: malformed header field in the answer");
    }
  }
  const digest = await crypto.subtle.digest("SHA-1", utf8.encode(key + GUID));
  if (
    headers.get("sec-websocket-accept") !== btoa(String.fromCharCode(...new Uint8Array(digest)))
  ) {
    throw new Error("WebSocket handshake: bad Sec-WebSocket-Accept");
  }
  return headers;
}

function indexOfHeadersEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.byteLength; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

// Masks are drawn from a pool of random bytes refilled 1,024 masks at a time (a random-bytes call
// per frame cost more than masking a small frame).
const maskPool = new Uint8Array(4096);
let maskAt = maskPool.byteLength;

function nextMask(): Uint8Array {
  if (maskAt === maskPool.byteLength) {
    crypto.getRandomValues(maskPool);
    maskAt = 0;
  }
  maskAt += 4;
  return maskPool.subarray(maskAt - 4, maskAt);
}

/** A client frame: FIN, `opcode`, masked payload (clients must mask, RFC 6455 §5.3). */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.byteLength;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = 2 + lengthBytes + 4;
  const out = new Uint8Array(head + n);
  out[0] = 0x80 | opcode;
  const view = new DataView(out.buffer);
  if (lengthBytes === 0) out[1] = 0x80 | n;
  else if (lengthBytes === 2) {
    out[1] = 0x80 | 126;
    view.setUint16(2, n);
  } else {
    out[1] = 0x80 | 127;
    view.setBigUint64(2, BigInt(n));
  }
  const mask = nextMask();
  out.set(mask, head - 4);
  out.set(payload, head);
  applyMask(out, head, n, mask);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// XORs out[at..at+n) with the repeating mask, a 32-bit word at a time where aligned.
function applyMask(out: Uint8Array, at: number, n: number, mask: Uint8Array): void {
  let i = 0;
  while (i < n && (!LITTLE_ENDIAN || ((at + i) & 3) !== 0)) out[at + i] ^= mask[i++ & 3];
  if (i < n) {
    const words = new Uint32Array(out.buffer, out.byteOffset + at + i, (n - i) >> 2);
    const m = mask[i & 3] | (mask[(i + 1) & 3] << 8) | (mask[(i + 2) & 3] << 16) |
      (mask[(i + 3) & 3] << 24);
    for (let w = 0; w < words.length; w++) words[w] ^= m;
    i += words.length * 4;
  }
  for (; i < n; i++) out[at + i] ^= mask[i & 3];
}

/** Parses one server frame at the start of `b`, or `undefined` when incomplete. */
export function parseFrame(
  b: Uint8Array,
  maxBytes: number,
): { fin: boolean; opcode: number; payload: Uint8Array; length: number } | undefined {
  if (b.byteLength < 2) return undefined;
  const fin = (b[0] & 0x80) !== 0;
  const opcode = b[0] & 0x0f;
  const masked = (b[1] & 0x80) !== 0;
  let n = b[1] & 0x7f;
  let at = 2;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (n === 126) {
    if (b.byteLength < 4) return undefined;
    n = view.getUint16(2);
    at = 4;
  } else if (n === 127) {
    if (b.byteLength < 10) return undefined;
    const big = view.getBigUint64(2);
    if (big > BigInt(maxBytes)) throw new RangeError(`frame of ${big} bytes`);
    n = Number(big);
    at = 10;
  }
  if (n > maxBytes) throw new RangeError(`frame of ${n} bytes`);
  if (masked) throw new TypeError("server frames must not be masked");
  if (b.byteLength < at + n) return undefined;
  return { fin, opcode, payload: b.subarray(at, at + n), length: at + n };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.byteLength;) at += await conn.write(data.subarray(at));
}
